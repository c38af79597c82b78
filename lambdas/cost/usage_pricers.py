"""Pricers for resources whose cost is mostly what they are used for: requests, GB, DPU-hours."""

from __future__ import annotations

from collections.abc import Mapping

from lambdas.cost.cost_line import CostLine
from lambdas.cost.pricing_context import PricingContext
from lambdas.cost.template_values import as_bool, as_number, as_str

# https://docs.aws.amazon.com/glue/latest/dg/add-job.html: DPUs per worker type
_GLUE_DPU_PER_WORKER = {
    "Standard": 1.0,
    "G.025X": 0.25,
    "G.1X": 1.0,
    "G.2X": 2.0,
    "G.4X": 4.0,
    "G.8X": 8.0,
    "Z.2X": 2.0,
}
# Express workflows bill memory in 64 MB steps; a small workflow stays at the first step.
_EXPRESS_MEMORY_GB = 64.0 / 1024.0


def lambda_function(ctx: PricingContext) -> list[CostLine]:
    requests = ctx.usage_value("requests_per_month")
    duration_ms = ctx.usage_value("avg_duration_ms")
    if requests is None or duration_ms is None:
        return [ctx.no_usage("invocations", "requests_per_month and avg_duration_ms")]
    memory_mb = as_number(ctx.properties.get("MemorySize"), ctx.parameters, default=128.0) or 128.0
    architectures = ctx.properties.get("Architectures") or ["x86_64"]
    arch = architectures[0] if isinstance(architectures, list) and architectures else "x86_64"
    arch = arch if arch in ("arm64", "x86_64") else "x86_64"
    gb_seconds = requests * duration_ms / 1000.0 * memory_mb / 1024.0
    return [
        ctx.metered("requests", "lambda", "request", requests, f"{requests:g} requests"),
        ctx.metered(
            f"compute ({arch}, {memory_mb:g} MB)",
            "lambda",
            f"gb_second:{arch}",
            gb_seconds,
            f"{requests:g} x {duration_ms:g} ms x {memory_mb / 1024.0:g} GB = {gb_seconds:g} GB-s",
        ),
    ]


def dynamodb_table(ctx: PricingContext) -> list[CostLine]:
    p = ctx.parameters
    replicas = 1.0
    if ctx.resource_type == "AWS::DynamoDB::GlobalTable":
        listed = ctx.properties.get("Replicas")
        replicas = float(len(listed)) if isinstance(listed, list) and listed else 1.0
        mode = as_str(ctx.properties.get("BillingMode"), p) or "PROVISIONED"
    else:
        mode = as_str(ctx.properties.get("BillingMode"), p) or "PROVISIONED"
    suffix = f" x {replicas:g} replicas" if replicas != 1.0 else ""
    lines: list[CostLine] = []
    if mode == "PAY_PER_REQUEST":
        reads = ctx.usage_value("read_units_per_month")
        writes = ctx.usage_value("write_units_per_month")
        if reads is None and writes is None:
            lines.append(ctx.no_usage("requests", "read_units_per_month and write_units_per_month"))
        if reads is not None:
            lines.append(
                ctx.metered("read request units", "dynamodb", "read_request_unit", reads, f"{reads:g} RRU")
            )
        if writes is not None:
            lines.append(
                ctx.metered(
                    "write request units",
                    "dynamodb",
                    "write_request_unit",
                    writes * replicas,
                    f"{writes:g} WRU{suffix}",
                )
            )
    else:
        rcu, wcu = _provisioned_capacity(ctx)
        if rcu is None or wcu is None:
            lines.append(ctx.unpriced("provisioned capacity", "ProvisionedThroughput is not literal"))
        else:
            lines.append(
                ctx.fixed(
                    "provisioned reads",
                    "dynamodb",
                    "provisioned_rcu_hour",
                    rcu * replicas,
                    f"{rcu:g} RCU{suffix}",
                )
            )
            lines.append(
                ctx.fixed(
                    "provisioned writes",
                    "dynamodb",
                    "provisioned_wcu_hour",
                    wcu * replicas,
                    f"{wcu:g} WCU{suffix}",
                )
            )
    storage = ctx.usage_value("storage_gb")
    if storage is not None:
        lines.append(
            ctx.fixed("storage", "dynamodb", "storage", storage * replicas, f"{storage:g} GB{suffix}")
        )
        pitr = ctx.properties.get("PointInTimeRecoverySpecification") or {}
        if isinstance(pitr, Mapping) and as_bool(pitr.get("PointInTimeRecoveryEnabled"), p):
            lines.append(
                ctx.fixed(
                    "point-in-time recovery",
                    "dynamodb",
                    "pitr_storage",
                    storage * replicas,
                    f"{storage:g} GB{suffix}",
                )
            )
    return lines


def _provisioned_capacity(ctx: PricingContext) -> tuple[float | None, float | None]:
    p = ctx.parameters
    throughput = ctx.properties.get("ProvisionedThroughput") or {}
    if not isinstance(throughput, Mapping):
        return None, None
    rcu = as_number(throughput.get("ReadCapacityUnits"), p, default=0.0)
    wcu = as_number(throughput.get("WriteCapacityUnits"), p, default=0.0)
    for index in ctx.properties.get("GlobalSecondaryIndexes") or []:
        gsi = index.get("ProvisionedThroughput") if isinstance(index, Mapping) else None
        if isinstance(gsi, Mapping) and rcu is not None and wcu is not None:
            extra_r = as_number(gsi.get("ReadCapacityUnits"), p, default=0.0)
            extra_w = as_number(gsi.get("WriteCapacityUnits"), p, default=0.0)
            rcu = None if extra_r is None else rcu + extra_r
            wcu = None if extra_w is None else wcu + extra_w
    return rcu, wcu


def s3_bucket(ctx: PricingContext) -> list[CostLine]:
    by_class = dict(ctx.usage.storage_gb_by_class or {}) if ctx.usage else {}
    standard = ctx.usage_value("storage_gb")
    if standard is not None:
        by_class["STANDARD"] = by_class.get("STANDARD", 0.0) + standard
    puts = ctx.usage_value("put_requests_per_month")
    gets = ctx.usage_value("get_requests_per_month")
    if not by_class and puts is None and gets is None:
        return [
            ctx.no_usage("storage and requests", "storage_gb (or storage_gb_by_class) and request counts")
        ]
    lines = [
        ctx.fixed(f"storage {storage_class}", "s3", f"storage:{storage_class}", gb, f"{gb:g} GB")
        for storage_class, gb in sorted(by_class.items())
    ]
    if puts is not None:
        lines.append(
            ctx.metered("PUT/COPY/POST/LIST requests", "s3", "put_request", puts, f"{puts:g} requests")
        )
    if gets is not None:
        lines.append(ctx.metered("GET requests", "s3", "get_request", gets, f"{gets:g} requests"))
    return lines


def state_machine(ctx: PricingContext) -> list[CostLine]:
    kind = as_str(ctx.properties.get("StateMachineType"), ctx.parameters) or "STANDARD"
    if kind == "EXPRESS":
        requests = ctx.usage_value("requests_per_month")
        duration_ms = ctx.usage_value("avg_duration_ms")
        if requests is None or duration_ms is None:
            return [ctx.no_usage("executions", "requests_per_month and avg_duration_ms")]
        gb_seconds = requests * duration_ms / 1000.0 * _EXPRESS_MEMORY_GB
        return [
            ctx.metered(
                "executions", "stepfunctions", "express_request", requests, f"{requests:g} executions"
            ),
            ctx.metered(
                "duration", "stepfunctions", "express_gb_second", gb_seconds, f"{gb_seconds:g} GB-s at 64 MB"
            ),
        ]
    transitions = ctx.usage_value("transitions_per_month")
    if transitions is None:
        return [ctx.no_usage("state transitions", "transitions_per_month")]
    return [
        ctx.metered(
            "state transitions",
            "stepfunctions",
            "standard_transition",
            transitions,
            f"{transitions:g} transitions",
        )
    ]


def rest_api(ctx: PricingContext) -> list[CostLine]:
    return _requests(ctx, "apigateway", "rest_request")


def http_api(ctx: PricingContext) -> list[CostLine]:
    protocol = as_str(ctx.properties.get("ProtocolType"), ctx.parameters) or "HTTP"
    if protocol != "HTTP":
        return [ctx.unpriced("requests", f"{protocol} APIs are not in the price catalog")]
    return _requests(ctx, "apigateway", "http_request")


def sqs_queue(ctx: PricingContext) -> list[CostLine]:
    return _requests(ctx, "sqs", "request")


def sns_topic(ctx: PricingContext) -> list[CostLine]:
    return _requests(ctx, "sns", "request")


def _requests(ctx: PricingContext, service: str, key: str) -> list[CostLine]:
    requests = ctx.usage_value("requests_per_month")
    if requests is None:
        return [ctx.no_usage("requests", "requests_per_month")]
    return [ctx.metered("requests", service, key, requests, f"{requests:g} requests")]


def log_group(ctx: PricingContext) -> list[CostLine]:
    ingested = ctx.usage_value("data_gb_per_month")
    stored = ctx.usage_value("storage_gb")
    if ingested is None and stored is None:
        return [ctx.no_usage("logs", "data_gb_per_month (ingested) and storage_gb (kept)")]
    lines = []
    if ingested is not None:
        lines.append(ctx.metered("ingestion", "cloudwatch", "logs_ingested_gb", ingested, f"{ingested:g} GB"))
    if stored is not None:
        lines.append(ctx.fixed("storage", "cloudwatch", "logs_stored_gb_month", stored, f"{stored:g} GB"))
    return lines


def glue_job(ctx: PricingContext) -> list[CostLine]:
    dpu_hours = ctx.usage_value("dpu_hours_per_month")
    if dpu_hours is not None:
        return [ctx.metered("DPU-hours", "glue", "dpu_hour", dpu_hours, f"{dpu_hours:g} DPU-hours")]
    run_hours = ctx.usage_value("run_hours_per_month")
    if run_hours is None:
        return [ctx.no_usage("DPU-hours", "run_hours_per_month (or dpu_hours_per_month)")]
    dpus, origin = _glue_dpus(ctx)
    if dpus is None:
        return [ctx.unpriced("DPU-hours", origin)]
    return [
        ctx.metered(
            "DPU-hours",
            "glue",
            "dpu_hour",
            run_hours * dpus,
            f"{run_hours:g} run-hours x {dpus:g} DPU [{origin}]",
        )
    ]


def _glue_dpus(ctx: PricingContext) -> tuple[float | None, str]:
    """DPUs of a Glue job from its workers or capacity, with where the figure came from."""
    p = ctx.parameters
    worker_type = as_str(ctx.properties.get("WorkerType"), p)
    if worker_type is not None:
        per_worker = _GLUE_DPU_PER_WORKER.get(worker_type)
        workers = as_number(ctx.properties.get("NumberOfWorkers"), p)
        if per_worker is None or workers is None:
            return None, f"WorkerType {worker_type} / NumberOfWorkers not understood"
        return per_worker * workers, f"{workers:g} x {worker_type}"
    for key in ("MaxCapacity", "AllocatedCapacity"):
        capacity = as_number(ctx.properties.get(key), p)
        if capacity is not None:
            return capacity, key
    command = ctx.properties.get("Command")
    name = as_str(command.get("Name"), p) if isinstance(command, Mapping) else None
    if name == "pythonshell":
        return 0.0625, "Python shell default"
    return 10.0, "Glue's default of 10 DPU"


def firehose(ctx: PricingContext) -> list[CostLine]:
    data_gb = ctx.usage_value("data_gb_per_month")
    if data_gb is None:
        return [ctx.no_usage("data ingested", "data_gb_per_month")]
    return [ctx.metered("data ingested", "firehose", "ingested_gb", data_gb, f"{data_gb:g} GB")]


def feature_group(ctx: PricingContext) -> list[CostLine]:
    if not ctx.properties.get("OnlineStoreConfig"):
        return [ctx.free("offline-only feature group: its cost is the S3 bucket and Glue table")]
    reads = ctx.usage_value("read_units_per_month")
    writes = ctx.usage_value("write_units_per_month")
    storage = ctx.usage_value("storage_gb")
    if reads is None and writes is None and storage is None:
        return [ctx.no_usage("online store", "read_units_per_month, write_units_per_month, storage_gb")]
    lines = []
    if reads is not None:
        lines.append(
            ctx.metered("online reads", "sagemaker", "feature_store_read_unit", reads, f"{reads:g} RU")
        )
    if writes is not None:
        lines.append(
            ctx.metered("online writes", "sagemaker", "feature_store_write_unit", writes, f"{writes:g} WU")
        )
    if storage is not None:
        lines.append(
            ctx.fixed("online storage", "sagemaker", "feature_store_storage", storage, f"{storage:g} GB")
        )
    return lines
