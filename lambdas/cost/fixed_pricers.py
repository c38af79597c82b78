"""Pricers for resources whose cost follows from the template: instances, domains, keys, alarms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdas.cost.cost_line import CostLine
from lambdas.cost.pricing_context import PricingContext
from lambdas.cost.template_values import as_bool, as_number, as_str

# CloudFormation's own default when a domain names no instance type.
_OPENSEARCH_DEFAULT_INSTANCE = "r5.large.search"


def sagemaker_endpoint_config(ctx: PricingContext) -> list[CostLine]:
    lines: list[CostLine] = []
    variants = list(ctx.properties.get("ProductionVariants") or [])
    shadows = list(ctx.properties.get("ShadowProductionVariants") or [])
    if not variants:
        return [ctx.unpriced("variants", "no literal ProductionVariants list")]
    for role, group in (("variant", variants), ("shadow variant", shadows)):
        for index, variant in enumerate(group):
            if not isinstance(variant, Mapping):
                lines.append(ctx.unpriced(f"{role} #{index}", "variant is not a literal mapping"))
                continue
            name = as_str(variant.get("VariantName"), ctx.parameters) or f"#{index}"
            component = f"{role} {name}"
            if "ServerlessConfig" in variant:
                lines.extend(_serverless_variant(ctx, component, variant["ServerlessConfig"]))
            else:
                lines.append(_instance_variant(ctx, component, variant))
    return lines


def _instance_variant(ctx: PricingContext, component: str, variant: Mapping[str, Any]) -> CostLine:
    instance_type = as_str(variant.get("InstanceType"), ctx.parameters)
    if instance_type is None:
        return ctx.unpriced(component, "InstanceType is not a literal or parameter default")
    count = ctx.usage_value("instance_count")
    origin = "usage instance_count"
    if count is None:
        count = as_number(variant.get("InitialInstanceCount"), ctx.parameters, default=1.0)
        origin = "InitialInstanceCount"
    if count is None:
        return ctx.unpriced(component, "InitialInstanceCount is not a literal")
    return ctx.fixed(
        f"{component} ({instance_type})",
        "sagemaker",
        f"hosting:{instance_type}",
        count,
        f"{count:g} instance(s) [{origin}]",
    )


def _serverless_variant(ctx: PricingContext, component: str, config: Any) -> list[CostLine]:
    if not isinstance(config, Mapping):
        return [ctx.unpriced(component, "ServerlessConfig is not a literal mapping")]
    memory_mb = as_number(config.get("MemorySizeInMB"), ctx.parameters)
    if memory_mb is None:
        return [ctx.unpriced(component, "ServerlessConfig.MemorySizeInMB is not a literal")]
    lines: list[CostLine] = []
    if config.get("ProvisionedConcurrency") is not None:
        lines.append(ctx.unpriced(f"{component} provisioned concurrency", "not in the price catalog"))
    requests = ctx.usage_value("requests_per_month")
    duration_ms = ctx.usage_value("avg_duration_ms")
    if requests is None or duration_ms is None:
        lines.append(
            ctx.no_usage(
                f"{component} (serverless {memory_mb:g} MB)", "requests_per_month and avg_duration_ms"
            )
        )
        return lines
    gb_seconds = requests * duration_ms / 1000.0 * memory_mb / 1024.0
    lines.append(
        ctx.metered(
            f"{component} (serverless {memory_mb:g} MB) compute",
            "sagemaker",
            "serverless_inference_gb_second",
            gb_seconds,
            f"{requests:g} requests x {duration_ms:g} ms x {memory_mb / 1024.0:g} GB = {gb_seconds:g} GB-s",
        )
    )
    payload_kb = ctx.usage_value("avg_payload_kb")
    if payload_kb is not None:
        gb = requests * payload_kb / 1024.0 / 1024.0
        lines.append(
            ctx.metered(
                f"{component} data processed",
                "sagemaker",
                "serverless_data_processed_gb",
                gb,
                f"{requests:g} requests x {payload_kb:g} KB = {gb:g} GB",
            )
        )
    return lines


def opensearch_domain(ctx: PricingContext) -> list[CostLine]:
    cluster_key = (
        "ElasticsearchClusterConfig" if ctx.resource_type == "AWS::Elasticsearch::Domain" else "ClusterConfig"
    )
    cluster = ctx.properties.get(cluster_key) or {}
    if not isinstance(cluster, Mapping):
        return [ctx.unpriced("cluster", f"{cluster_key} is not a literal mapping")]
    p = ctx.parameters
    lines: list[CostLine] = []
    data_type = as_str(cluster.get("InstanceType"), p) or _OPENSEARCH_DEFAULT_INSTANCE
    data_count = as_number(cluster.get("InstanceCount"), p, default=1.0)
    if data_count is None:
        return [ctx.unpriced("data nodes", "InstanceCount is not a literal")]
    lines.append(
        ctx.fixed(
            f"data nodes ({data_type})",
            "opensearch",
            f"instance:{data_type}",
            data_count,
            f"{data_count:g} node(s)",
        )
    )
    master_key = "DedicatedMasterEnabled"
    if as_bool(cluster.get(master_key), p):
        master_type = as_str(cluster.get("DedicatedMasterType"), p) or data_type
        master_count = as_number(cluster.get("DedicatedMasterCount"), p, default=3.0) or 0.0
        lines.append(
            ctx.fixed(
                f"master nodes ({master_type})",
                "opensearch",
                f"instance:{master_type}",
                master_count,
                f"{master_count:g} node(s)",
            )
        )
    if as_bool(cluster.get("WarmEnabled"), p):
        warm_type = as_str(cluster.get("WarmType"), p) or "ultrawarm1.medium.search"
        warm_count = as_number(cluster.get("WarmCount"), p, default=2.0) or 0.0
        lines.append(
            ctx.fixed(
                f"UltraWarm nodes ({warm_type})",
                "opensearch",
                f"instance:{warm_type}",
                warm_count,
                f"{warm_count:g} node(s)",
            )
        )
        warm_gb = ctx.usage_value("storage_gb")
        if warm_gb is not None:
            lines.append(
                ctx.fixed(
                    "UltraWarm storage", "opensearch", "ultrawarm_managed_storage", warm_gb, f"{warm_gb:g} GB"
                )
            )
    ebs = ctx.properties.get("EBSOptions") or {}
    if isinstance(ebs, Mapping) and as_bool(ebs.get("EBSEnabled"), p, default=False):
        volume_type = as_str(ebs.get("VolumeType"), p) or "gp2"
        size = as_number(ebs.get("VolumeSize"), p, default=10.0) or 0.0
        total = size * data_count
        lines.append(
            ctx.fixed(
                f"EBS {volume_type}",
                "opensearch",
                f"storage:{volume_type}",
                total,
                f"{size:g} GB x {data_count:g} node(s)",
            )
        )
    return lines


def opensearch_serverless_collection(ctx: PricingContext) -> list[CostLine]:
    redundant = (as_str(ctx.properties.get("StandbyReplicas"), ctx.parameters) or "ENABLED") != "DISABLED"
    ocus = 4.0 if redundant else 2.0
    line = ctx.fixed(
        "minimum OCUs (indexing + search)",
        "opensearch",
        "serverless_ocu",
        ocus,
        f"{ocus:g} OCU (account minimum, shared by collections with the same KMS key)",
    )
    return [line]


def kms_key(ctx: PricingContext) -> list[CostLine]:
    lines = [ctx.fixed("key", "kms", "key_month", 1.0, "1 key")]
    requests = ctx.usage_value("requests_per_month")
    if requests is not None:
        lines.append(ctx.metered("requests", "kms", "request", requests, f"{requests:g} requests"))
    return lines


def cloudwatch_alarm(ctx: PricingContext) -> list[CostLine]:
    metrics = ctx.properties.get("Metrics")
    count = 1.0
    if isinstance(metrics, list):
        count = float(sum(1 for m in metrics if isinstance(m, Mapping) and "MetricStat" in m))
        anomaly = sum(
            1
            for m in metrics
            if isinstance(m, Mapping) and "ANOMALY_DETECTION_BAND" in str(m.get("Expression", ""))
        )
        count += 2.0 * anomaly  # an anomaly band is billed as three metrics
    period = as_number(ctx.properties.get("Period"), ctx.parameters, default=60.0) or 60.0
    if isinstance(metrics, list):
        periods = [
            as_number(m.get("MetricStat", {}).get("Period"), ctx.parameters, default=60.0) or 60.0
            for m in metrics
            if isinstance(m, Mapping) and isinstance(m.get("MetricStat"), Mapping)
        ]
        period = min(periods, default=period)
    key = "alarm_high_resolution_metric_month" if period < 60 else "alarm_standard_metric_month"
    return [ctx.fixed("alarm", "cloudwatch", key, count, f"{count:g} metric(s)")]


def cloudwatch_composite_alarm(ctx: PricingContext) -> list[CostLine]:
    return [ctx.fixed("composite alarm", "cloudwatch", "composite_alarm_month", 1.0, "1 alarm")]


def cloudwatch_dashboard(ctx: PricingContext) -> list[CostLine]:
    return [
        ctx.fixed(
            "dashboard", "cloudwatch", "dashboard_month", 1.0, "1 dashboard (first 3 per account are free)"
        )
    ]


def kinesis_stream(ctx: PricingContext) -> list[CostLine]:
    mode_details = ctx.properties.get("StreamModeDetails") or {}
    mode = (
        as_str(mode_details.get("StreamMode"), ctx.parameters) if isinstance(mode_details, Mapping) else None
    )
    data_gb = ctx.usage_value("data_gb_per_month")
    if mode == "ON_DEMAND":
        lines = [ctx.fixed("on-demand stream", "kinesis", "on_demand_stream_hour", 1.0, "1 stream")]
        if data_gb is None:
            lines.append(ctx.no_usage("data ingested", "data_gb_per_month"))
        else:
            lines.append(
                ctx.metered("data ingested", "kinesis", "on_demand_ingested_gb", data_gb, f"{data_gb:g} GB")
            )
        return lines
    shards = as_number(ctx.properties.get("ShardCount"), ctx.parameters, default=1.0)
    if shards is None:
        return [ctx.unpriced("shards", "ShardCount is not a literal")]
    lines = [ctx.fixed("provisioned shards", "kinesis", "shard_hour", shards, f"{shards:g} shard(s)")]
    requests = ctx.usage_value("requests_per_month")
    if requests is not None:
        payload = ctx.usage_value("avg_payload_kb") or 1.0
        units = requests * max(1.0, -(-payload // 25.0))
        lines.append(
            ctx.metered(
                "PUT payload units", "kinesis", "put_payload_unit", units, f"{units:g} units of 25 KB"
            )
        )
    return lines


def nat_gateway(ctx: PricingContext) -> list[CostLine]:
    lines = [ctx.fixed("gateway", "vpc", "nat_gateway_hour", 1.0, "1 NAT gateway")]
    data_gb = ctx.usage_value("data_gb_per_month")
    if data_gb is None:
        lines.append(ctx.no_usage("data processed", "data_gb_per_month"))
    else:
        lines.append(
            ctx.metered("data processed", "vpc", "nat_gateway_processed_gb", data_gb, f"{data_gb:g} GB")
        )
    return lines


def vpc_endpoint(ctx: PricingContext) -> list[CostLine]:
    kind = as_str(ctx.properties.get("VpcEndpointType"), ctx.parameters) or "Gateway"
    if kind == "Gateway":
        return [ctx.free("gateway endpoints (S3, DynamoDB) have no charge")]
    subnets = ctx.properties.get("SubnetIds")
    if not isinstance(subnets, list):
        return [
            ctx.unpriced("interface endpoint", "SubnetIds is not a literal list, so the AZ count is unknown")
        ]
    lines = [
        ctx.fixed(
            f"{kind} endpoint",
            "vpc",
            "interface_endpoint_az_hour",
            float(len(subnets)),
            f"{len(subnets)} AZ(s)",
        )
    ]
    data_gb = ctx.usage_value("data_gb_per_month")
    if data_gb is not None:
        lines.append(
            ctx.metered(
                "data processed", "vpc", "interface_endpoint_processed_gb", data_gb, f"{data_gb:g} GB"
            )
        )
    return lines


def elastic_ip(ctx: PricingContext) -> list[CostLine]:
    return [ctx.fixed("public IPv4 address", "vpc", "public_ipv4_hour", 1.0, "1 address")]


def secret(ctx: PricingContext) -> list[CostLine]:
    return [ctx.fixed("secret", "secretsmanager", "secret_month", 1.0, "1 secret")]
