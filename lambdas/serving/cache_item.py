"""Layout of a cached prediction in the DynamoDB cache table.

The endpoint's response body is stored verbatim as a string (not as a DynamoDB map) so
that floats survive without Decimal conversion and a hit returns exactly what the model
said. ``expires_at`` is the table's TTL attribute; DynamoDB deletes expired items only
eventually (often hours later), so readers also check it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PARTITION_KEY = "pk"
TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class CachedPrediction:
    """One endpoint answer as it is kept in the cache."""

    body: str
    content_type: str
    variant: str
    model_version: str
    created_at: int
    expires_at: int

    def is_fresh(self, now: float) -> bool:
        return now < self.expires_at


def new_cached_prediction(
    *, body: str, content_type: str, variant: str, model_version: str, now: float, ttl_seconds: int
) -> CachedPrediction:
    if ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
    created = int(now)
    return CachedPrediction(
        body=body,
        content_type=content_type,
        variant=variant,
        model_version=model_version,
        created_at=created,
        expires_at=created + ttl_seconds,
    )


def to_item(key: str, prediction: CachedPrediction) -> dict[str, dict[str, str]]:
    """The low-level (typed attribute) DynamoDB item for ``prediction`` under ``key``."""
    return {
        PARTITION_KEY: {"S": key},
        "body": {"S": prediction.body},
        "content_type": {"S": prediction.content_type},
        "variant": {"S": prediction.variant},
        "model_version": {"S": prediction.model_version},
        "created_at": {"N": str(prediction.created_at)},
        TTL_ATTRIBUTE: {"N": str(prediction.expires_at)},
    }


def from_item(item: Mapping[str, Mapping[str, Any]], now: float) -> CachedPrediction | None:
    """The cached prediction in ``item``, or None when it has expired or is malformed.

    A malformed item is treated as a miss so that a layout change never breaks serving;
    the next miss overwrites it.
    """
    try:
        prediction = CachedPrediction(
            body=str(item["body"]["S"]),
            content_type=str(item["content_type"]["S"]),
            variant=str(item["variant"]["S"]),
            model_version=str(item["model_version"]["S"]),
            created_at=int(item["created_at"]["N"]),
            expires_at=int(item[TTL_ATTRIBUTE]["N"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return prediction if prediction.is_fresh(now) else None
