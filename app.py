#!/usr/bin/env python3
"""CDK app: load the platform config (`-c config=PATH`), build one Stage per environment, synth.

A bad config exits 1 with one line per problem (file, field path, reason) and no traceback.
A large config is synthesized by one process per core (`-c synth-workers=N` overrides, 1 turns
it off); see stacks/parallel_synth.py.
"""

from __future__ import annotations

import sys

from stacks.jsii_node import configure_jsii_node

# Before aws_cdk is imported: that starts jsii's Node process (see stacks/jsii_node.py).
configure_jsii_node()

import aws_cdk as cdk  # noqa: E402

from stacks.assembly_merge import AssemblyMergeError  # noqa: E402
from stacks.config import ConfigError, load_config  # noqa: E402
from stacks.parallel_synth import WORKERS_CONTEXT, SynthWorkerError, parse_workers, synthesize  # noqa: E402


def main() -> int:
    # The context is read from a throwaway App so the real one can be built with the config.
    context = cdk.App().node
    config_path = context.try_get_context("config") or "config/default.yaml"
    try:
        config = load_config(config_path)
    except ConfigError as error:
        for line in error.lines():
            print(f"config error: {line}", file=sys.stderr)
        return 1
    try:
        workers = parse_workers(context.try_get_context(WORKERS_CONTEXT))
    except ValueError as error:
        print(f"context error: {error}", file=sys.stderr)
        return 1
    try:
        synthesize(config, workers=workers)
    except (SynthWorkerError, AssemblyMergeError) as error:
        print(f"synth error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
