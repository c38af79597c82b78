"""CI cost estimate time for a large cloud assembly. Target: under 2 s for 100 models.

Uses `cdk.out.bench-100` (the lead's 100-model synth) when present; otherwise generates a
cloud assembly of the same shape: one Stage with ten serving shards of ten models each
(model, endpoint config, endpoint, scalable target, scaling policy, two alarms, an
inference function with role and log group), plus a foundation stack.

Run: .venv/bin/python bench/cost.py [CDK_OUT]
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


def _time(function: Any, repeats: int = 7) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), result


def main() -> None:
    given = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "cdk.out.bench-100"
    with tempfile.TemporaryDirectory() as tmp:
        cdk_out = given if given.is_dir() else generate(Path(tmp) / "cdk.out")
        origin = "given" if given.is_dir() else "generated (100 models, 11 stacks)"
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
