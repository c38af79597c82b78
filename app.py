#!/usr/bin/env python3
"""CDK app: load the platform config (`-c config=PATH`), build one Stage per environment, synth.

A bad config exits 1 with one line per problem (file, field path, reason) and no traceback.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks.app_builder import build_app
from stacks.config import ConfigError, load_config


def main() -> int:
    # The context is read from a throwaway App so the real one can be built with the config.
    config_path = cdk.App().node.try_get_context("config") or "config/default.yaml"
    try:
        config = load_config(config_path)
    except ConfigError as error:
        for line in error.lines():
            print(f"config error: {line}", file=sys.stderr)
        return 1
    app, _ = build_app(config)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
