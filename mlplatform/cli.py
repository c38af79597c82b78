"""Entry point of the `mlplatform` console script.

Subcommands live in `mlplatform.commands.<name>`; each module exposes
`register(subparsers) -> None` which adds its parser and sets `func` to a callable taking
the parsed namespace and returning the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lambdas.common.errors import InputError

COMMANDS = ("drift", "ab", "cost", "summary")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlplatform", description="ML platform command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"mlplatform.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except InputError as exc:
        for line in exc.lines():
            print(f"mlplatform {args.command}: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
