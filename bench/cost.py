"""CI cost estimate time for a large cloud assembly. Target: under 2 s for 100 models.

Uses, in order: a CDK_OUT given on the command line; `cdk.out.bench-100` (the lead's
100-model synth) when present; with `--synth`, the default config with its first model
copied 100 times, synthesized here (synthesis is not timed); otherwise a generated cloud
assembly of the same shape: one Stage with ten serving shards of ten models each (model,
endpoint config, endpoint, scalable target, scaling policy, two alarms, an inference
function with role and log group), plus a foundation stack.

Run: .venv/bin/python bench/cost.py [CDK_OUT | --synth]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lambdas.cost.assembly import read_assembly
from lambdas.cost.catalog import PriceCatalog
from lambdas.cost.estimate import estimate_assembly
from lambdas.cost.estimate_report import render_markdown, render_table, render_total
from lambdas.cost.usage import parse_usage

REPO = Path(__file__).resolve().parent.parent
INSTANCE_TYPES = ["ml.m5.large", "ml.m5.xlarge", "ml.c6i.xlarge", "ml.g5.xlarge", "ml.inf2.xlarge"]


def _model_resources(index: int) -> dict[str, Any]:
    name = f"Model{index:03d}"
    path = f"Prod/Serving{index // 10}/{name}"
    variants = [
        {
            "VariantName": "Blue",
            "ModelName": f"m{index}",
            "InstanceType": INSTANCE_TYPES[index % 5],
            "InitialInstanceCount": 1 + index % 3,
            "InitialVariantWeight": 0.9,
        },
        {
            "VariantName": "Green",
            "ModelName": f"m{index}b",
            "InstanceType": INSTANCE_TYPES[(index + 1) % 5],
            "InitialInstanceCount": 1,
            "InitialVariantWeight": 0.1,
        },
    ]
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "ModelLatency", "Period": 60}}
    return {
        f"{name}Model": {"Type": "AWS::SageMaker::Model", "Properties": {}},
        f"{name}Config": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {"ProductionVariants": variants},
            "Metadata": {"aws:cdk:path": f"{path}/Config"},
        },
        f"{name}Endpoint": {"Type": "AWS::SageMaker::Endpoint", "Properties": {}},
        f"{name}Target": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {}},
        f"{name}Policy": {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {}},
        f"{name}LatencyAlarm": alarm,
        f"{name}ErrorAlarm": alarm,
        f"{name}Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        f"{name}Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        f"{name}Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"MemorySize": 512, "Architectures": ["arm64"]},
            "Metadata": {"aws:cdk:path": f"{path}/Predict/Resource"},
        },
    }


def generate(root: Path, models: int = 100) -> Path:
    stage = root / "assembly-Prod"
    stage.mkdir(parents=True)
    artifacts: dict[str, Any] = {}
    for shard in range((models + 9) // 10):
        resources: dict[str, Any] = {}
        for index in range(shard * 10, min(models, shard * 10 + 10)):
            resources.update(_model_resources(index))
        stack = f"ProdServing{shard}"
        (stage / f"{stack}.template.json").write_text(json.dumps({"Resources": resources}))
        artifacts[stack] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://111111111111/eu-west-1",
            "properties": {"templateFile": f"{stack}.template.json"},
            "displayName": f"Prod/Serving{shard}",
        }
    foundation = {f"Key{i}": {"Type": "AWS::KMS::Key", "Properties": {}} for i in range(5)}
    foundation["Topic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    (stage / "ProdFoundation.template.json").write_text(json.dumps({"Resources": foundation}))
    artifacts["ProdFoundation"] = {
        "type": "aws:cloudformation:stack",
        "environment": "aws://111111111111/eu-west-1",
        "properties": {"templateFile": "ProdFoundation.template.json"},
        "displayName": "Prod/Foundation",
    }
    (stage / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "version": "48.0.0",
                "artifacts": {
                    "assembly-Prod": {
                        "type": "cdk:cloud-assembly",
                        "properties": {"directoryName": "assembly-Prod"},
                    }
                },
            }
        )
    )
    return root


def synthesize_100(root: Path) -> Path:
    """The default platform with 100 models (copies of the first), bundling skipped."""
    import os

    from stacks.app_builder import SKIP_BUNDLING, build_app
    from stacks.config import load_config

    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    config = load_config(REPO / "config" / "default.yaml")
    if not config.models:
        raise SystemExit("config/default.yaml has no model to copy")
    template = config.models[0]
    models = [template.model_copy(update={"name": f"{template.name}-{i:03d}"}) for i in range(100)]
    config = config.model_copy(update={"models": models})
    app, _ = build_app(config, outdir=str(root), nag=False, context=SKIP_BUNDLING)
    app.synth()
    return root


def _time(function: Any, repeats: int = 7) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), result


def main() -> None:
    argument = sys.argv[1] if len(sys.argv) > 1 else ""
    given = Path(argument) if argument and argument != "--synth" else REPO / "cdk.out.bench-100"
    with tempfile.TemporaryDirectory() as tmp:
        if given.is_dir():
            cdk_out, origin = given, "given"
        elif argument == "--synth":
            cdk_out, origin = (
                synthesize_100(Path(tmp) / "cdk.out"),
                "default config with 100 models, synthesized",
            )
        else:
            cdk_out, origin = generate(Path(tmp) / "cdk.out"), "generated (100 models, 11 stacks)"
        start = time.perf_counter()
        catalog = PriceCatalog.load()
        catalog_s = time.perf_counter() - start
        usage = parse_usage(
            {"defaults": {"AWS::Lambda::Function": {"requests_per_month": 1e7, "avg_duration_ms": 30}}}
        )

        read_s, stacks = _time(lambda: read_assembly(cdk_out))
        price_s, estimate = _time(lambda: estimate_assembly(stacks, catalog, usage=usage))
        render_s, _ = _time(
            lambda: (render_table(estimate), render_markdown(estimate), render_total(estimate))
        )
        total_s, _ = _time(
            lambda: render_total(estimate_assembly(read_assembly(cdk_out), PriceCatalog.load(), usage=usage))
        )

    resources = sum(len(s.resources) for s in stacks)
    print(f"cloud assembly: {cdk_out.name} [{origin}]")
    print(f"stacks: {len(stacks)}  resources: {resources}  cost lines: {len(estimate.lines)}")
    print(f"load catalog:          {catalog_s * 1000:8.1f} ms")
    print(f"read templates:        {read_s * 1000:8.1f} ms (median of 7)")
    print(f"price resources:       {price_s * 1000:8.1f} ms")
    print(f"render table+md+total: {render_s * 1000:8.1f} ms")
    print(
        f"end to end:            {total_s * 1000:8.1f} ms  (target < 2000 ms: {'met' if total_s < 2 else 'MISSED'})"
    )
    print(render_total(estimate))


if __name__ == "__main__":
    main()
