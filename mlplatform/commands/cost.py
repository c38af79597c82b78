"""`mlplatform cost`: estimate a synthesized cloud assembly, diff two, refresh the price catalog."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from lambdas.common.errors import InputError
from lambdas.cost.assembly import read_assembly
from lambdas.cost.catalog import PriceCatalog
from lambdas.cost.estimate import Estimate, estimate_assembly
from lambdas.cost.estimate_diff import diff_estimates, render_diff_markdown
from lambdas.cost.estimate_report import render_json, render_markdown, render_table, render_total
from lambdas.cost.usage import UsageFile, load_usage_file

_RENDERERS = {"table": render_table, "json": render_json, "markdown": render_markdown, "total": render_total}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("cost", help="monthly cost estimate of a cdk.out, and its diff")
    commands = parser.add_subparsers(dest="cost_command", metavar="ACTION", required=True)

    estimate = commands.add_parser("estimate", help="price every stack of a cloud assembly")
    estimate.add_argument("cdk_out", type=Path, help="cdk.out directory (or one template file)")
    _common_options(estimate)
    estimate.add_argument("--format", choices=sorted(_RENDERERS), default="table")
    estimate.set_defaults(func=run_estimate)

    diff = commands.add_parser("diff", help="monthly delta per resource between two cloud assemblies")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    _common_options(diff)
    diff.add_argument("--format", choices=("markdown", "json"), default="markdown")
    diff.set_defaults(func=run_diff)

    refresh = commands.add_parser(
        "refresh-catalog", help="refresh SageMaker prices from the AWS Price List API"
    )
    refresh.add_argument(
        "--regions", nargs="+", default=["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"]
    )
    refresh.add_argument(
        "--instance-types", nargs="*", default=None, help="default: every type in the catalog"
    )
    refresh.add_argument("--catalog", type=Path, default=None)
    refresh.add_argument("--output", type=Path, required=True)
    refresh.set_defaults(func=run_refresh)


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--usage", type=Path, default=None, help="usage YAML (see docs/cost.md)")
    parser.add_argument(
        "--region",
        default=os.environ.get("CDK_DEFAULT_REGION") or None,
        help="region for environment-agnostic stacks (default: $CDK_DEFAULT_REGION; else they stay unpriced)",
    )
    parser.add_argument(
        "--catalog", type=Path, default=None, help="price catalog JSON (default: the bundled one)"
    )


def _estimate(
    cdk_out: Path, args: argparse.Namespace, catalog: PriceCatalog, usage: UsageFile | None
) -> Estimate:
    return estimate_assembly(
        read_assembly(cdk_out),
        catalog,
        usage=usage,
        default_region=args.region,
        usage_source=str(args.usage) if args.usage else "usage",
    )


def run_estimate(args: argparse.Namespace) -> int:
    catalog = PriceCatalog.load(args.catalog)
    usage = load_usage_file(args.usage) if args.usage else None
    print(_RENDERERS[args.format](_estimate(args.cdk_out, args, catalog, usage)))
    return 0


def run_diff(args: argparse.Namespace) -> int:
    catalog = PriceCatalog.load(args.catalog)
    usage = load_usage_file(args.usage) if args.usage else None
    try:
        old = _estimate(args.old, args, catalog, usage)
    except InputError as exc:
        # A usage file written for the new assembly may name resources the old one lacks.
        if not any("matches no resource" in p.reason for p in exc.problems):
            raise
        old = _estimate(args.old, args, catalog, None)
    result = diff_estimates(old, _estimate(args.new, args, catalog, usage))
    print(json.dumps(result.to_dict(), indent=2) if args.format == "json" else render_diff_markdown(result))
    return 0


def run_refresh(args: argparse.Namespace) -> int:
    import boto3

    from lambdas.cost.pricing_refresh import credentials_available, refresh_catalog

    session = boto3.Session()
    if not credentials_available(session):
        print(
            "mlplatform cost refresh-catalog: no AWS credentials; the bundled catalog stays in use",
            file=sys.stderr,
        )
        return 1
    catalog = PriceCatalog.load(args.catalog)
    types = args.instance_types or catalog.instance_types()
    # The Price List API is only served from a few regions; us-east-1 is one of them.
    client = session.client("pricing", region_name="us-east-1")
    refreshed = refresh_catalog(catalog, client, args.regions, types)
    args.output.write_text(json.dumps(refreshed.to_document(), indent=1))
    print(f"wrote {args.output} (catalog {refreshed.date})")
    return 0
