"""Writing materialized rows to the online table from one Spark partition.

Each row goes through the feature store's own validation and item layout and is written
with its conditional rule (``online_item.put_item_request``): a stored newer event time
is never replaced, an equal one is a no-op. A token bucket bounds each partition's write
rate, so ``partitions * writes_per_second`` bounds the whole job and an on-demand table's
throughput (and its account-level limits) are not exhausted. No pyspark here: the tests
drive it with moto directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from lambdas.feature_store import online_item
from lambdas.feature_store.registry import FeatureGroup
from lambdas.feature_store.validation import RejectedRecord, validate_record

ENTITY_ID_COLUMN = "entity_id"
EVENT_TIME_MS_COLUMN = "event_time_ms"


@dataclass
class WriteCounts:
    """What happened to the rows of one partition (or, summed, of a whole run)."""

    written: int = 0
    superseded: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(
            self.written + other.written,
            self.superseded + other.superseded,
            self.unchanged + other.unchanged,
            self.rejected + other.rejected,
        )

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WriteCounts:
        return cls(**{k: int(data.get(k, 0)) for k in ("written", "superseded", "unchanged", "rejected")})


class RateLimiter:
    """Token bucket: at most `rate` acquisitions per second, bursts of at most `rate`."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._rate = rate
        self._clock = clock
        self._sleep = sleep
        self._tokens = rate
        self._last = clock()

    def acquire(self) -> None:
        now = self._clock()
        self._tokens = min(self._rate, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            wait = (1 - self._tokens) / self._rate
            self._sleep(wait)
            self._last = self._clock()
            self._tokens = 1.0
        self._tokens -= 1


def write_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    group: FeatureGroup,
    table_name: str,
    dynamodb: Any,
    limiter: RateLimiter,
    now_ms: int,
    on_rejected: Callable[[RejectedRecord], None] | None = None,
) -> WriteCounts:
    """Write each row (``entity_id``, ``event_time_ms`` and the group's features)."""
    counts = WriteCounts()
    for index, row in enumerate(rows):
        record = {name: row.get(name) for name in group.feature_names}
        record[group.entity_key] = row[ENTITY_ID_COLUMN]
        # Epoch seconds as a float round-trips to the exact millisecond in validation.
        record[group.event_time_field] = row[EVENT_TIME_MS_COLUMN] / 1000
        checked = validate_record(group, record, index, now_ms)
        if isinstance(checked, RejectedRecord):
            counts.rejected += 1
            if on_rejected is not None:
                on_rejected(checked)
            continue
        item = online_item.build_item(
            group, checked.entity_id, checked.event_time_ms, checked.encoded, now_ms
        )
        limiter.acquire()
        try:
            dynamodb.put_item(**online_item.put_item_request(table_name, item))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            returned: Any = exc.response.get("Item")
            stored = online_item.stored_event_time(returned)
            outcome = online_item.classify_condition_failure(stored, checked.event_time_ms)
            if outcome is online_item.WriteOutcome.UNCHANGED:
                counts.unchanged += 1
            else:
                counts.superseded += 1
            continue
        counts.written += 1
    return counts
