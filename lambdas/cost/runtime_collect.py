"""Collect what the runtime cost report needs from SageMaker and CloudWatch (boto3 I/O only)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdas.cost.cloudwatch_reader import MetricReader, variant_dimensions
from lambdas.cost.inference_cost import average_instance_count
from lambdas.cost.rightsizing import VariantUtilisation
from lambdas.cost.spot_savings import TrainingJob
from lambdas.cost.storage_tiering import STORAGE_TYPES, BucketStorage

INVOCATION_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"


@dataclass(frozen=True)
class EndpointVariant:
    endpoint: str
    endpoint_arn: str
    variant: str
    instance_type: str  # "" for a serverless variant
    current_instance_count: float
    serverless_memory_mb: float | None = None


def endpoint_variants(sagemaker: Any, name_prefix: str = "") -> Iterator[EndpointVariant]:
    """Variants of every InService endpoint: instance-backed, or serverless with their memory size."""
    paginator = sagemaker.get_paginator("list_endpoints")
    filters: dict[str, str] = {"StatusEquals": "InService"}
    if name_prefix:
        filters["NameContains"] = name_prefix
    for page in paginator.paginate(**filters):
        for summary in page.get("Endpoints", []):
            endpoint = sagemaker.describe_endpoint(EndpointName=summary["EndpointName"])
            config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
            configured = {v["VariantName"]: v for v in config.get("ProductionVariants", [])}
            for variant in endpoint.get("ProductionVariants", []):
                spec = configured.get(variant["VariantName"], {})
                instance_type = spec.get("InstanceType")
                serverless = spec.get("ServerlessConfig")
                if not instance_type and serverless:
                    yield EndpointVariant(
                        endpoint["EndpointName"],
                        endpoint["EndpointArn"],
                        variant["VariantName"],
                        "",
                        0.0,
                        float(serverless.get("MemorySizeInMB", 0)),
                    )
                    continue
                if not instance_type:
                    continue
                count = variant.get("CurrentInstanceCount", variant.get("DesiredInstanceCount", 1))
                yield EndpointVariant(
                    endpoint["EndpointName"],
                    endpoint["EndpointArn"],
                    variant["VariantName"],
                    instance_type,
                    float(count),
                )


def latency_slo_ms(sagemaker: Any, endpoint_arn: str, tag_key: str, default: float | None) -> float | None:
    tags = sagemaker.list_tags(ResourceArn=endpoint_arn).get("Tags", [])
    for tag in tags:
        if tag.get("Key") == tag_key:
            try:
                return float(tag["Value"])
            except (TypeError, ValueError):
                return default
    return default


def variant_utilisation(
    reader: MetricReader, variant: EndpointVariant, window_hours: float, slo_ms: float | None
) -> VariantUtilisation:
    dims = variant_dimensions(variant.endpoint, variant.variant)
    invocations = reader.total(INVOCATION_NAMESPACE, "Invocations", dims)
    per_instance = reader.total(INVOCATION_NAMESPACE, "InvocationsPerInstance", dims)
    latency = reader.percentile(INVOCATION_NAMESPACE, "ModelLatency", dims, "p99")
    return VariantUtilisation(
        endpoint=variant.endpoint,
        variant=variant.variant,
        instance_type=variant.instance_type,
        instance_count=average_instance_count(invocations, per_instance, variant.current_instance_count),
        window_hours=window_hours,
        invocations=invocations,
        cpu_percent=reader.peak_period_average(INSTANCE_NAMESPACE, "CPUUtilization", dims),
        memory_percent=reader.peak_period_average(INSTANCE_NAMESPACE, "MemoryUtilization", dims),
        gpu_percent=reader.peak_period_average(INSTANCE_NAMESPACE, "GPUUtilization", dims),
        gpu_memory_percent=reader.peak_period_average(INSTANCE_NAMESPACE, "GPUMemoryUtilization", dims),
        p99_latency_us=None if latency is None else latency.value,
        p99_is_maximum=bool(latency and latency.is_maximum),
        latency_slo_ms=slo_ms,
    )


def serverless_usage(reader: MetricReader, variant: EndpointVariant) -> tuple[float, float | None]:
    """(invocations, average ModelLatency in microseconds) of a serverless variant."""
    dims = variant_dimensions(variant.endpoint, variant.variant)
    return (
        reader.total(INVOCATION_NAMESPACE, "Invocations", dims),
        reader.average(INVOCATION_NAMESPACE, "ModelLatency", dims),
    )


def finished_training_jobs(sagemaker: Any, since: datetime) -> Iterator[TrainingJob]:
    paginator = sagemaker.get_paginator("list_training_jobs")
    for page in paginator.paginate(StatusEquals="Completed", CreationTimeAfter=since):
        for summary in page.get("TrainingJobSummaries", []):
            job = sagemaker.describe_training_job(TrainingJobName=summary["TrainingJobName"])
            resources = job.get("ResourceConfig", {})
            training = float(job.get("TrainingTimeInSeconds") or 0.0)
            yield TrainingJob(
                name=job["TrainingJobName"],
                instance_type=str(resources.get("InstanceType", "")),
                instance_count=int(resources.get("InstanceCount", 1)),
                training_seconds=training,
                billable_seconds=float(job.get("BillableTimeInSeconds") or training),
                spot=bool(job.get("EnableManagedSpotTraining", False)),
            )


def bucket_storage(reader: MetricReader, buckets: Sequence[str]) -> Iterator[BucketStorage]:
    for bucket in buckets:
        sizes: dict[str, float] = {}
        for storage_type in (*STORAGE_TYPES, "ReducedRedundancyStorage"):
            size = reader.latest_average(
                "AWS/S3", "BucketSizeBytes", {"BucketName": bucket, "StorageType": storage_type}
            )
            if size:
                sizes[storage_type] = size
        objects = reader.latest_average(
            "AWS/S3", "NumberOfObjects", {"BucketName": bucket, "StorageType": "AllStorageTypes"}
        )
        yield BucketStorage(bucket, sizes, objects or 0.0)
