"""POST /labels: reviewers' verdicts to the ground-truth location model monitoring reads.

Entry point ``fraud_service.label_handler.handler``. A label for a transaction without a
decision on record is rejected (400), so a typo cannot create ground truth for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from fraud_service.api import bad_request, request_body, response
from fraud_service.audit import audit_key
from fraud_service.labels import label_key, label_lines, parse_labels
from fraud_service.settings import LabelSettings
from lambdas.common.errors import InputError, Problem

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="FraudDetection")


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def process(
    event: dict[str, Any],
    settings: LabelSettings,
    s3: Any,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sink: Metrics = metrics,
) -> dict[str, Any]:
    try:
        labels = parse_labels(request_body(event))
        unknown = [
            Problem(f"labels[{i}].transaction_id", f"no decision on record for {lab.inference_id}")
            for i, lab in enumerate(labels)
            if not _exists(s3, settings.audit_bucket, audit_key(lab.inference_id))
        ]
        if unknown:
            raise InputError(unknown, "labels")
    except InputError as exc:
        return bad_request(exc)
    at = now()
    body = label_lines(labels, at)
    bucket, _, prefix = settings.labels_uri.removeprefix("s3://").partition("/")
    key = label_key(prefix, at, body)
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson")
    sink.add_metric(name="LabelsIngested", unit=MetricUnit.Count, value=len(labels))
    logger.info("labels written", extra={"key": key, "count": len(labels)})
    return response(200, {"written": len(labels), "key": f"s3://{bucket}/{key}"})


@cache
def _clients() -> tuple[LabelSettings, Any]:
    return LabelSettings.from_env(), boto3.client("s3")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings, s3 = _clients()
    return process(event, settings, s3)
