"""DynamoDB reads and writes of cached predictions (layout in ``cache_item``)."""

from __future__ import annotations

from typing import Any

from lambdas.serving.cache_item import PARTITION_KEY, CachedPrediction, from_item, to_item


class PredictionCache:
    def __init__(self, table_name: str, dynamodb_client: Any) -> None:
        self._table = table_name
        self._client = dynamodb_client

    def get(self, key: str, now: float) -> CachedPrediction | None:
        response = self._client.get_item(TableName=self._table, Key={PARTITION_KEY: {"S": key}})
        item = response.get("Item")
        return from_item(item, now) if item else None

    def put(self, key: str, prediction: CachedPrediction) -> None:
        self._client.put_item(TableName=self._table, Item=to_item(key, prediction))
