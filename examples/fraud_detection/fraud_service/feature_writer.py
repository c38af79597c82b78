"""Writing a card's new velocity features back to the feature store.

Two ways, one record shape (the `card_velocity` group's whole vector at the emission time):

- `FeatureStoreWriter`: the platform client's `put_records` in the request (offline
  Parquet first, then the conditional online write);
- `IngestionQueueWriter`: a message on the feature store's ingestion queue, which the
  platform's ingestion function writes with `put_records` in batches. This keeps pyarrow
  and one small S3 object per transaction out of the request path; the decision never
  reads these values back (it has the windows), other models and training sets do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from fraud_service.feature_groups import CARD_VELOCITY
from lambdas.feature_store.client import FeatureStoreClient


def velocity_record(card_id: str, emitted_ms: int, values: Mapping[str, Any]) -> dict[str, Any]:
    return {CARD_VELOCITY.entity_key: card_id, "event_time": emitted_ms / 1000, **dict(values)}


class VelocityWriter(Protocol):
    def write(self, record: dict[str, Any]) -> None: ...


class FeatureStoreWriter:
    def __init__(self, client: FeatureStoreClient) -> None:
        self._client = client

    def write(self, record: dict[str, Any]) -> None:
        response = self._client.put_records(CARD_VELOCITY.name, [record])
        if response.rejected:
            problems = "; ".join(str(p) for r in response.rejected for p in r.problems)
            raise ValueError(f"card_velocity record rejected: {problems}")


class IngestionQueueWriter:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def write(self, record: dict[str, Any]) -> None:
        body = json.dumps({"group": CARD_VELOCITY.name, "records": [record]}, separators=(",", ":"))
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body)
