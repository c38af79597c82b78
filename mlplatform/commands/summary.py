"""`mlplatform summary CDK_OUT`: the review summary of a synthesized platform."""

from __future__ import annotations

import argparse
import importlib

from mlplatform.cloud_assembly import read_stacks
from mlplatform.review_summary import render_summary


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("summary", help="review summary of a synthesized cdk.out")
    parser.add_argument("cdk_out", help="the cloud assembly directory, e.g. cdk.out")
    parser.add_argument("--no-cost", action="store_true", help="leave out the monthly cost estimate")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stacks = read_stacks(args.cdk_out)
    print(render_summary(stacks))
    if not args.no_cost:
        print(_cost_total(args.cdk_out))
    return 0


def _cost_total(cdk_out: str) -> str:
    try:
        cost = importlib.import_module("mlplatform.commands.cost")
    except ModuleNotFoundError:
        return "\nEstimated monthly cost: not available (the cost estimator is not installed)"
    return "\n" + cost.total_line(cdk_out)
