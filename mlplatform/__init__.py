"""The `mlplatform` command line: local runs of the platform's analysis engines."""
