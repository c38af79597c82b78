"""Stand-in for the feature store's Athena point-in-time query, called by the pipeline's
BuildTrainingSet step: it writes the 'query result' under the `output_uri` it is given."""

from __future__ import annotations

from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bucket, _, prefix = event["output_uri"].removeprefix("s3://").partition("/")
    key = f"{prefix}part-00000.parquet"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=f"{event['model']}:{event['query']}".encode())
    return {"objects": [f"s3://{bucket}/{key}"]}
