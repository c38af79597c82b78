"""The analysis function's AWS I/O: outcome files, endpoint weights and metrics, decisions table.

Each function takes its boto3 client (or table) as an argument so tests hand in moto-backed
clients and the handler owns client creation.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from lambdas.ab_analysis.assembly import VariantEndpointStats
from lambdas.ab_analysis.outcomes import OutcomeTotals

METRIC_PERIOD_SECONDS = 300


def _object_lines(s3: Any, bucket: str, key: str) -> Iterator[str]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if key.endswith(".gz"):
        body = gzip.decompress(body)
    yield from body.decode("utf-8").splitlines()


def read_outcomes(
    s3: Any,
    *,
    bucket: str,
    prefix: str,
    phase_start: datetime,
    window_end: datetime,
    metrics: set[str],
) -> OutcomeTotals:
    """Sum every ``.jsonl`` / ``.jsonl.gz`` outcome summary under ``prefix`` that falls in the window."""
    totals = OutcomeTotals()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if not key.endswith((".jsonl", ".jsonl.gz")):
                continue
            totals.add_lines(
                _object_lines(s3, bucket, key),
                source=f"s3://{bucket}/{key}",
                phase_start=phase_start,
                window_end=window_end,
                metrics=metrics,
            )
    return totals


def endpoint_weights(sagemaker: Any, endpoint_name: str) -> dict[str, float]:
    """Current traffic weight of every production variant (not normalised)."""
    described = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    weights: dict[str, float] = {}
    for variant in described.get("ProductionVariants", []):
        weight = variant.get("CurrentWeight", variant.get("DesiredWeight", 0.0))
        weights[variant["VariantName"]] = float(weight)
    return weights


def set_weights(sagemaker: Any, endpoint_name: str, weights: Mapping[str, float]) -> None:
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint_name,
        DesiredWeightsAndCapacities=[
            {"VariantName": v, "DesiredWeight": float(w)} for v, w in weights.items()
        ],
    )


def variant_endpoint_stats(
    cloudwatch: Any, *, endpoint_name: str, variants: list[str], start: datetime, end: datetime
) -> dict[str, VariantEndpointStats]:
    """Invocations, 5XX errors (sums) and per-period average ModelLatency of each variant."""
    queries: list[dict[str, Any]] = []
    for i, variant in enumerate(variants):
        dimensions = [
            {"Name": "EndpointName", "Value": endpoint_name},
            {"Name": "VariantName", "Value": variant},
        ]
        for prefix, metric, stat in (
            ("inv", "Invocations", "Sum"),
            ("err", "Invocation5XXErrors", "Sum"),
            ("lat", "ModelLatency", "Average"),
        ):
            queries.append(
                {
                    "Id": f"{prefix}{i}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/SageMaker",
                            "MetricName": metric,
                            "Dimensions": dimensions,
                        },
                        "Period": METRIC_PERIOD_SECONDS,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    values: dict[str, list[float]] = {q["Id"]: [] for q in queries}
    for page in cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries, StartTime=start, EndTime=end
    ):
        for series in page.get("MetricDataResults", []):
            values[series["Id"]].extend(float(v) for v in series.get("Values", []))
    return {
        variant: VariantEndpointStats(
            invocations=sum(values[f"inv{i}"]),
            errors=sum(values[f"err{i}"]),
            # ModelLatency is reported in microseconds.
            latency_periods=[v / 1000.0 for v in values[f"lat{i}"]],
        )
        for i, variant in enumerate(variants)
    }


def put_text(s3: Any, *, bucket: str, key: str, body: str, content_type: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType=content_type)


@dataclass(frozen=True)
class WindowRecord:
    """One look of one experiment as stored in the decisions table."""

    experiment_id: str
    window: str
    status: str
    action: str | None
    variant: str | None
    reason: str
    # What the next look starts from: its phase, phase start, ramp step and sequential state.
    next_phase: int
    next_phase_start: str
    next_ramp_step: int
    next_state: dict[str, Any] | None
    finished: bool
    target_weights: dict[str, float] | None
    applied: bool
    result_key: str | None

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "experiment_id": self.experiment_id,
            "window": self.window,
            "status": self.status,
            "reason": self.reason,
            "next_phase": self.next_phase,
            "next_phase_start": self.next_phase_start,
            "next_ramp_step": self.next_ramp_step,
            "finished": self.finished,
            "applied": self.applied,
        }
        # Floats are not DynamoDB numbers; state and weights are stored as JSON text.
        if self.next_state is not None:
            item["next_state"] = json.dumps(self.next_state, allow_nan=False)
        if self.target_weights is not None:
            item["target_weights"] = json.dumps(self.target_weights)
        for name in ("action", "variant", "result_key"):
            if getattr(self, name) is not None:
                item[name] = getattr(self, name)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> WindowRecord:
        return cls(
            experiment_id=item["experiment_id"],
            window=item["window"],
            status=item["status"],
            action=item.get("action"),
            variant=item.get("variant"),
            reason=item.get("reason", ""),
            next_phase=int(item["next_phase"]),
            next_phase_start=item["next_phase_start"],
            next_ramp_step=int(item["next_ramp_step"]),
            next_state=json.loads(item["next_state"]) if "next_state" in item else None,
            finished=bool(item.get("finished", False)),
            target_weights=json.loads(item["target_weights"]) if "target_weights" in item else None,
            applied=bool(item.get("applied", False)),
            result_key=item.get("result_key"),
        )


class DecisionStore:
    """Decisions table: partition key ``experiment_id``, sort key ``window`` (ISO time, sortable)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, experiment_id: str, window: str) -> WindowRecord | None:
        item = self.table.get_item(
            Key={"experiment_id": experiment_id, "window": window}, ConsistentRead=True
        ).get("Item")
        return WindowRecord.from_item(item) if item else None

    def _neighbour(self, experiment_id: str, window: str, *, before: bool) -> WindowRecord | None:
        condition = Key("experiment_id").eq(experiment_id) & (
            Key("window").lt(window) if before else Key("window").gt(window)
        )
        items = self.table.query(
            KeyConditionExpression=condition, ScanIndexForward=not before, Limit=1, ConsistentRead=True
        ).get("Items", [])
        return WindowRecord.from_item(items[0]) if items else None

    def latest_before(self, experiment_id: str, window: str) -> WindowRecord | None:
        return self._neighbour(experiment_id, window, before=True)

    def newer_than(self, experiment_id: str, window: str) -> WindowRecord | None:
        return self._neighbour(experiment_id, window, before=False)

    def put_new(self, record: WindowRecord) -> bool:
        """Write the record unless the window already has one; False if another run got there first."""
        try:
            self.table.put_item(
                Item=record.to_item(),
                ConditionExpression="attribute_not_exists(#w)",
                ExpressionAttributeNames={"#w": "window"},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_applied(self, experiment_id: str, window: str) -> None:
        self.table.update_item(
            Key={"experiment_id": experiment_id, "window": window},
            UpdateExpression="SET applied = :t",
            ExpressionAttributeValues={":t": True},
        )
