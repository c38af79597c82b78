"""S3 and EventBridge I/O of the drift functions (boto3 clients are passed in)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from lambdas.common.errors import InputError
from lambdas.drift.dataset_profile import DatasetProfile
from lambdas.drift.serialization import loads
from lambdas.drift.settings import split_s3_uri

DRIFT_SOURCE = "mlplatform.drift"
DRIFT_DETAIL_TYPE = "Model Drift Detected"


def hour_prefixes(start: datetime, end: datetime) -> list[str]:
    """`yyyy/mm/dd/hh/` of every hour in [start, end): SageMaker data capture's layout."""
    hours, at = [], start
    while at < end:
        hours.append(at.strftime("%Y/%m/%d/%H/"))
        at += timedelta(hours=1)
    return hours


def day_prefixes(start: datetime, end: datetime) -> list[str]:
    """`dt=yyyy-mm-dd/` of every day the window touches: the offline store's partitions."""
    days, at = [], start.replace(hour=0)
    while at < end:
        days.append(at.strftime("dt=%Y-%m-%d/"))
        at += timedelta(days=1)
    return days


def _list(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def window_objects(
    s3: Any, data_uri: str, data_format: str, start: datetime, end: datetime
) -> list[dict[str, str]]:
    """Objects of the window, sorted by key, as `{"bucket", "key"}` items."""
    bucket, prefix = split_s3_uri(data_uri)
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    keys: list[str] = []
    if data_format == "parquet":
        for day in day_prefixes(start, end):
            keys += [o["Key"] for o in _list(s3, bucket, prefix + day) if o["Key"].endswith(".parquet")]
    else:
        variants = [
            p["Prefix"]
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, Delimiter="/"
            )
            for p in page.get("CommonPrefixes", [])
        ]
        for variant in variants:
            for hour in hour_prefixes(start, end):
                keys += [o["Key"] for o in _list(s3, bucket, variant + hour) if o["Size"] > 0]
    return [{"bucket": bucket, "key": key} for key in sorted(keys)]


def read_bytes(s3: Any, bucket: str, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return gzip.decompress(body) if key.endswith(".gz") else body


def read_baseline(s3: Any, uri: str) -> DatasetProfile:
    bucket, key = split_s3_uri(uri)
    try:
        body = read_bytes(s3, bucket, key)
    except s3.exceptions.NoSuchKey:
        raise InputError.single(
            "BASELINE_URI", "no baseline profile there; profile the training data first", uri
        ) from None
    return loads(body, source=uri)


def put_json(s3: Any, bucket: str, key: str, body: Any) -> str:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(body, allow_nan=False, separators=(",", ":")).encode(),
        ContentType="application/json",
    )
    return f"s3://{bucket}/{key}"


def put_text(s3: Any, bucket: str, key: str, text: str, content_type: str) -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type)
    return f"s3://{bucket}/{key}"


def publish_drift_event(events: Any, bus: str, detail: dict[str, Any]) -> str:
    """Put the event the retraining pipeline listens for; fail loudly if EventBridge refuses it."""
    response = events.put_events(
        Entries=[
            {
                "Source": DRIFT_SOURCE,
                "DetailType": DRIFT_DETAIL_TYPE,
                "Detail": json.dumps(detail, allow_nan=False),
                "EventBusName": bus,
            }
        ]
    )
    entry = response["Entries"][0]
    if response.get("FailedEntryCount") or "EventId" not in entry:
        raise RuntimeError(
            f"EventBridge refused the drift event: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
        )
    return str(entry["EventId"])
