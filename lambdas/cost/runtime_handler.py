"""Scheduled runtime cost report: cost per inference, right-sizing, spot and tiering savings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.common.errors import InputError, Problem
from lambdas.cost.catalog import default_catalog
from lambdas.cost.cloudwatch_reader import MetricReader
from lambdas.cost.inference_cost import serverless_variant_cost, variant_cost
from lambdas.cost.rightsizing import recommend
from lambdas.cost.runtime_collect import (
    bucket_storage,
    endpoint_variants,
    finished_training_jobs,
    latency_slo_ms,
    serverless_usage,
    variant_utilisation,
)
from lambdas.cost.runtime_report import build_report, report_key
from lambdas.cost.runtime_settings import RuntimeCostSettings
from lambdas.cost.spot_savings import spot_summary
from lambdas.cost.storage_tiering import tiering_saving

NAMESPACE = "MLPlatform/Cost"
logger = Logger(service="cost")
tracer = Tracer(service="cost")
metrics = Metrics(namespace=NAMESPACE, service="cost")


class RuntimeCostEvent(BaseModel):
    """A scheduled EventBridge event, optionally overriding the window."""

    model_config = ConfigDict(extra="ignore")

    window_hours: float | None = Field(default=None, gt=0, le=24 * 62)


def run(
    settings: RuntimeCostSettings,
    *,
    sagemaker: Any,
    cloudwatch: Any,
    s3: Any,
    now: datetime | None = None,
    window_hours: float | None = None,
) -> dict[str, Any]:
    """Collect, compute, write the report to S3 and return it (the handler's work, testable with moto)."""
    catalog = default_catalog()
    end = now or datetime.now(UTC)
    hours = window_hours or settings.window_hours
    start = end - timedelta(hours=hours)
    hourly = MetricReader(cloudwatch, start, end, 3600)
    costs, recommendations = [], []
    for variant in endpoint_variants(sagemaker, settings.endpoint_name_prefix):
        if variant.serverless_memory_mb is not None:
            invocations, latency_us = serverless_usage(hourly, variant)
            costs.append(
                serverless_variant_cost(
                    catalog,
                    settings.region,
                    endpoint=variant.endpoint,
                    variant=variant.variant,
                    memory_mb=variant.serverless_memory_mb,
                    window_hours=hours,
                    invocations=invocations,
                    average_latency_us=latency_us,
                )
            )
            continue
        slo = latency_slo_ms(
            sagemaker, variant.endpoint_arn, settings.latency_slo_tag, settings.default_latency_slo_ms
        )
        usage = variant_utilisation(hourly, variant, hours, slo)
        costs.append(
            variant_cost(
                catalog,
                settings.region,
                endpoint=usage.endpoint,
                variant=usage.variant,
                instance_type=usage.instance_type,
                average_instance_count=usage.instance_count,
                window_hours=hours,
                invocations=usage.invocations,
            )
        )
        recommendations.append(recommend(usage, catalog, settings.region))
    spot = spot_summary(finished_training_jobs(sagemaker, start), catalog, settings.region)
    # storage metrics are daily: read two days so the latest full day is in range
    daily = MetricReader(cloudwatch, end - timedelta(days=2), end, 86400)
    tiering = [
        tiering_saving(
            storage, catalog, settings.region, assumed_cold_fraction=settings.assumed_cold_fraction
        )
        for storage in bucket_storage(daily, settings.buckets)
    ]
    report = build_report(
        generated_at=end,
        region=settings.region,
        window_hours=hours,
        catalog=catalog,
        costs=costs,
        recommendations=recommendations,
        spot=spot,
        tiering=tiering,
    )
    key = report_key(settings.report_prefix, end)
    s3.put_object(
        Bucket=settings.report_bucket,
        Key=key,
        Body=json.dumps(report).encode(),
        ContentType="application/json",
    )
    report["report_location"] = f"s3://{settings.report_bucket}/{key}"
    return report


def publish_metrics(report: dict[str, Any]) -> None:
    summary = report["summary"]
    metrics.add_metric(
        "RightSizingMonthlySaving", MetricUnit.Count, summary["rightsizing_monthly_saving_usd"]
    )
    metrics.add_metric("SpotRealisedSaving", MetricUnit.Count, summary["spot_realised_saving_usd"])
    metrics.add_metric("TieringMonthlySaving", MetricUnit.Count, summary["tiering_monthly_saving_usd"])
    metrics.add_metric("EndpointMonthlyCost", MetricUnit.Count, summary["monthly_endpoint_cost_usd"])
    for cost in report["cost_per_inference"]:
        if cost["cost_per_thousand_usd"] is None:
            continue
        with single_metric(
            name="CostPerThousandInferences",
            unit=MetricUnit.Count,
            value=cost["cost_per_thousand_usd"],
            namespace=NAMESPACE,
        ) as metric:
            metric.add_dimension("EndpointName", cost["endpoint"])
            metric.add_dimension("VariantName", cost["variant"])


_settings: RuntimeCostSettings | None = None


def _load_settings() -> RuntimeCostSettings:
    global _settings
    if _settings is None:
        _settings = RuntimeCostSettings.from_environment()
    return _settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        settings = _load_settings()
        request = RuntimeCostEvent.model_validate(event or {})
    except ValidationError as exc:
        error = InputError([Problem(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()], "event")
        logger.warning("bad event", extra={"problems": error.lines()})
        return {"status": "error", "problems": error.lines()}
    except InputError as exc:
        logger.error("bad configuration", extra={"problems": exc.lines()})
        return {"status": "error", "problems": exc.lines()}
    report = run(
        settings,
        sagemaker=boto3.client("sagemaker"),
        cloudwatch=boto3.client("cloudwatch"),
        s3=boto3.client("s3"),
        window_hours=request.window_hours,
    )
    publish_metrics(report)
    logger.info(
        "cost report written", extra={"location": report["report_location"], "summary": report["summary"]}
    )
    return {"status": "ok", "report": report["report_location"], "summary": report["summary"]}
