#!/usr/bin/env python3
"""CDK app: load the platform config (`-c config=PATH`), build one Stage per environment, synth.

A bad config exits 1 with one line per problem (file, field path, reason) and no traceback.
A large config is synthesized by one process per core (`-c synth-workers=N` overrides, 1 turns
it off); see stacks/parallel_synth.py.
"""

from __future__ import annotations

import sys

from stacks.assembly_merge import AssemblyMergeError
from stacks.cli_context import ContextError, cli_context
from stacks.config import ConfigError, load_config
from stacks.jsii_node import configure_jsii_node
from stacks.parallel_synth import (
    WORKERS_CONTEXT,
    StackTooLargeError,
    SynthWorkerError,
    parse_workers,
    synthesize,
)


def main() -> int:
    # Nothing here imports aws_cdk: synthesize() starts the synth workers first and only then
    # starts this process's own jsii Node, so that their start-ups overlap.
    configure_jsii_node()
    try:
        context = cli_context()
    except ContextError as error:
        print(f"context error: {error}", file=sys.stderr)
        return 1
    config_path = context.get("config") or "config/default.yaml"
    try:
        config = load_config(config_path)
    except ConfigError as error:
        for line in error.lines():
            print(f"config error: {line}", file=sys.stderr)
        return 1
    try:
        workers = parse_workers(context.get(WORKERS_CONTEXT))
    except ValueError as error:
        print(f"context error: {error}", file=sys.stderr)
        return 1
    try:
        synthesize(config, workers=workers)
    except (SynthWorkerError, AssemblyMergeError, StackTooLargeError) as error:
        print(f"synth error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
