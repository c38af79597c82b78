"""`mlplatform cost`: estimate a synthesized cloud assembly, diff two, refresh the price catalog."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from lambdas.common.errors import InputError
from lambdas.cost.assembly import read_assembly
from lambdas.cost.catalog import PriceCatalog
from lambdas.cost.estimate import Estimate, estimate_assembly
from lambdas.cost.estimate_diff import diff_estimates, render_diff_markdown
from lambdas.cost.estimate_report import render_json, render_markdown, render_table, render_total
from lambdas.cost.schedule_rate import runs_per_month
from lambdas.cost.usage import UsageFile, load_usage_file, parse_usage

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

    derive = commands.add_parser(
        "usage-from-config", help="print a usage file derived from the platform config"
    )
    derive.add_argument("config", type=Path, help="platform config YAML (config/default.yaml)")
    derive.set_defaults(func=run_usage_from_config)

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
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="platform config: adds its scheduled training runs (a usage file's job of the same name wins)",
    )


def _estimate(
    cdk_out: Path,
    args: argparse.Namespace,
    catalog: PriceCatalog,
    usage: UsageFile | None,
    *,
    ignore_unmatched_usage: bool = False,
) -> Estimate:
    return estimate_assembly(
        read_assembly(cdk_out),
        catalog,
        usage=usage,
        default_region=args.region,
        usage_source=str(args.usage) if args.usage else "usage",
        ignore_unmatched_usage=ignore_unmatched_usage,
    )


def _usage(args: argparse.Namespace) -> UsageFile | None:
    usage = load_usage_file(args.usage) if args.usage else None
    if args.config is None:
        return usage
    derived = parse_usage(usage_from_config(_load_config(args.config)), source=str(args.config))
    if usage is None:
        return derived
    named = {job.name for job in usage.jobs}
    return usage.model_copy(
        update={
            "jobs": [*usage.jobs, *(job for job in derived.jobs if job.name not in named)],
            "default_region": usage.default_region or derived.default_region,
        }
    )


def _load_config(path: Path) -> Any:
    from stacks.config import load_config

    return load_config(path)


def usage_from_config(config: Any) -> dict[str, Any]:
    """Training runs of every environment from the platform config, as a usage document.

    Retraining runs are started by a state machine, so no template resource holds their
    instances; Glue jobs are template resources and are priced there from their workers.
    """
    from stacks.config.models import duration_seconds

    jobs: list[dict[str, Any]] = []
    for environment in config.environments:
        for model in config.models:
            training, retraining = model.training, model.retraining
            if training is None or retraining is None or not retraining.schedule:
                continue
            jobs.append(
                {
                    "name": f"{environment.name}/{model.name}/training",
                    "service": "sagemaker_training",
                    "instance_type": training.instance_type,
                    "instance_count": training.instance_count,
                    "hours_per_run": duration_seconds(training.max_runtime) / 3600.0,
                    "runs_per_month": runs_per_month(retraining.schedule),
                    "spot": training.spot,
                    "region": environment.region,
                    "note": f"config: {retraining.schedule}, max_runtime {training.max_runtime} (an upper bound)",
                }
            )
    region = config.environments[0].region if config.environments else None
    return {"default_region": region, "jobs": jobs}


def total_line(cdk_out: str | Path, *, usage: Path | None = None, config: Path | None = None) -> str:
    """The one-line monthly total for the review summary; a problem becomes the line, not a crash."""
    args = argparse.Namespace(usage=usage, config=config, region=os.environ.get("CDK_DEFAULT_REGION") or None)
    try:
        return render_total(_estimate(Path(cdk_out), args, PriceCatalog.load(), _usage(args)))
    except InputError as exc:
        return f"Estimated monthly cost: not available ({exc})"


def run_usage_from_config(args: argparse.Namespace) -> int:
    print(yaml.safe_dump(usage_from_config(_load_config(args.config)), sort_keys=False), end="")
    return 0


def run_estimate(args: argparse.Namespace) -> int:
    catalog = PriceCatalog.load(args.catalog)
    usage = _usage(args)
    print(_RENDERERS[args.format](_estimate(args.cdk_out, args, catalog, usage)))
    return 0


def run_diff(args: argparse.Namespace) -> int:
    catalog = PriceCatalog.load(args.catalog)
    usage = _usage(args)
    # A usage file written for the new assembly names resources the old one may lack.
    old = _estimate(args.old, args, catalog, usage, ignore_unmatched_usage=True)
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
    refreshed = refresh_catalog(
        catalog, client, args.regions, types, opensearch_instance_types=catalog.opensearch_instance_types()
    )
    args.output.write_text(json.dumps(refreshed.to_document(), indent=1))
    print(f"wrote {args.output} (catalog {refreshed.date})")
    return 0
