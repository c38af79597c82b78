"""`mlplatform summary CDK_OUT`: the review summary of a synthesized platform."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlplatform.cloud_assembly import read_stacks
from mlplatform.commands.cost import total_line
from mlplatform.review_summary import render_summary


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("summary", help="review summary of a synthesized cdk.out")
    parser.add_argument("cdk_out", help="the cloud assembly directory, e.g. cdk.out")
    parser.add_argument("--config", type=Path, help="platform config, for usage-based cost defaults")
    parser.add_argument("--usage", type=Path, help="usage file for usage-based costs (see docs/cost.md)")
    parser.add_argument("--no-cost", action="store_true", help="leave out the monthly cost estimate")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stacks = read_stacks(args.cdk_out)
    print(render_summary(stacks))
    if not args.no_cost:
        print("\n" + total_line(args.cdk_out, usage=args.usage, config=args.config))
    return 0
