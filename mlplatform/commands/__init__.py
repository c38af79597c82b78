"""One module per `mlplatform` subcommand; each exposes `register(subparsers)`."""
