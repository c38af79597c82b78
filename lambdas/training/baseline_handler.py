"""Profile a deployed run's training set and publish it as the model's drift baseline.

Runs after a successful deploy, so the baseline the drift monitor reads always describes
the model in production. The run's copy is written first, then the live key, so the live
baseline is always also recorded next to the run that produced it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from lambdas.drift.numeric_profile import Column
from lambdas.drift.serialization import dumps
from lambdas.drift.window_reader import parquet_columns
from lambdas.training.baseline import baseline_from_parts, data_object_keys, versioned_baseline_key
from lambdas.training.runtime import client, logger, tracer


class BaselineRequest(BaseModel):
    model: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    training_data_uri: str = Field(pattern=r"^s3://[^/]+/.+")
    artifact_bucket: str = Field(min_length=1)
    baseline_key: str = Field(min_length=1)
    excluded_columns: list[str] = Field(default_factory=list)


def _list(bucket: str, prefix: str) -> list[dict[str, Any]]:
    paginator = client("s3").get_paginator("list_objects_v2")
    return [o for page in paginator.paginate(Bucket=bucket, Prefix=prefix) for o in page.get("Contents", [])]


def _read_parts(bucket: str, keys: list[str]) -> list[tuple[str, dict[str, Column]]]:
    parts = []
    for key in keys:
        source = f"s3://{bucket}/{key}"
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        parts.append((source, parquet_columns(body, source).columns))
    return parts


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=BaselineRequest)
def handler(event: BaselineRequest, context: LambdaContext) -> dict[str, Any]:
    data_bucket, _, prefix = event.training_data_uri.removeprefix("s3://").partition("/")
    keys = data_object_keys(_list(data_bucket, prefix))
    profile = baseline_from_parts(_read_parts(data_bucket, keys), excluded=set(event.excluded_columns))
    body = dumps(profile).encode()
    versioned = versioned_baseline_key(event.model, event.run_id)
    s3 = client("s3")
    for key in (versioned, event.baseline_key):
        s3.put_object(Bucket=event.artifact_bucket, Key=key, Body=body, ContentType="application/json")
    logger.info(
        "baseline written",
        extra={"rows": profile.rows, "features": len(profile.features), "problems": profile.problems},
    )
    return {
        "baseline_uri": f"s3://{event.artifact_bucket}/{event.baseline_key}",
        "versioned_uri": f"s3://{event.artifact_bucket}/{versioned}",
        "rows": profile.rows,
        "features": sorted(profile.features),
        "problems": dict(profile.problems),
        "files": len(keys),
    }
