"""Turning online items into per-value results: statuses, order, duplicates. Pure.

Every value carries a status:
  PRESENT      stored and within the feature's max age;
  STALE        stored but older than the feature's max age (the value is still returned
               so the caller can choose a fallback or use it anyway);
  MISSING      the store answered and holds no value (no item, or a null value);
  UNAVAILABLE  the store did not answer in time (throttled past the deadline) or the
               item was written under another schema version; never reported as MISSING.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lambdas.feature_store import codec
from lambdas.feature_store.online_item import StoredItem
from lambdas.feature_store.registry import FeatureGroup


class Status(StrEnum):
    PRESENT = "PRESENT"
    STALE = "STALE"
    MISSING = "MISSING"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class FeatureValue:
    value: Any
    status: Status


@dataclass(slots=True)
class EntityFeatures:
    """The requested features of one entity, in the requested feature order."""

    entity_id: str
    names: tuple[str, ...]
    values: list[Any]
    statuses: list[Status]
    event_time_ms: int | None = None
    # Why the whole row is UNAVAILABLE, when it is.
    reason: str | None = None

    def __getitem__(self, name: str) -> FeatureValue:
        i = self.names.index(name)
        return FeatureValue(self.values[i], self.statuses[i])

    def to_dict(self) -> dict[str, FeatureValue]:
        return {n: FeatureValue(v, s) for n, v, s in zip(self.names, self.values, self.statuses, strict=True)}


@dataclass
class FeatureResponse:
    """Rows in the order of the requested entity ids (duplicates repeated)."""

    group: str
    rows: list[EntityFeatures]
    round_trips: int = 0
    latency_ms: float = 0.0
    status_counts: Counter[Status] = field(default_factory=Counter)

    def __iter__(self) -> Iterator[EntityFeatures]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> EntityFeatures:
        return self.rows[i]


class ReadPlan:
    """What to pull out of each item of a group for one request, computed once."""

    __slots__ = ("all_features", "group", "indices", "max_age_ms", "names")

    def __init__(self, group: FeatureGroup, names: Sequence[str]) -> None:
        self.group = group
        self.names = tuple(names)
        self.indices = [group.feature_index[n] for n in self.names]
        self.all_features = self.names == group.feature_names
        self.max_age_ms = [
            math.inf if (age := group.by_name[n].max_age_seconds) is None else age * 1000 for n in self.names
        ]

    def unavailable(self, entity_id: str, reason: str) -> EntityFeatures:
        n = len(self.names)
        return EntityFeatures(entity_id, self.names, [None] * n, [Status.UNAVAILABLE] * n, None, reason)

    def missing(self, entity_id: str) -> EntityFeatures:
        n = len(self.names)
        return EntityFeatures(entity_id, self.names, [None] * n, [Status.MISSING] * n)

    def decode(self, item: StoredItem, now_ms: int) -> EntityFeatures:
        if item.fingerprint != self.group.fingerprint:
            return self.unavailable(
                item.entity_id,
                f"item written under schema fingerprint {item.fingerprint}, registry has {self.group.fingerprint}",
            )
        try:
            stored = codec.decode_for(self.group, item.encoded_features)
        except codec.CodecError as exc:
            return self.unavailable(item.entity_id, str(exc))
        values = stored if self.all_features else [stored[i] for i in self.indices]
        age = now_ms - item.event_time_ms
        missing, stale, present = Status.MISSING, Status.STALE, Status.PRESENT
        statuses = [
            missing if v is None else (stale if age > m else present)
            for v, m in zip(values, self.max_age_ms, strict=True)
        ]
        return EntityFeatures(item.entity_id, self.names, values, statuses, item.event_time_ms)


def unique_in_order(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def chunks(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def assemble(
    plan: ReadPlan, requested: Sequence[str], found: dict[str, EntityFeatures], unavailable: dict[str, str]
) -> list[EntityFeatures]:
    """Rows in request order; ids neither found nor unavailable were answered as absent."""
    rows = []
    for entity_id in requested:
        row = found.get(entity_id)
        if row is None:
            reason = unavailable.get(entity_id)
            row = plan.unavailable(entity_id, reason) if reason is not None else plan.missing(entity_id)
        rows.append(row)
    return rows


def count_statuses(rows: Sequence[EntityFeatures]) -> Counter[Status]:
    counts: Counter[Status] = Counter()
    for row in rows:
        counts.update(row.statuses)
    return counts


def full_jitter_delay(attempt: int, base_seconds: float, cap_seconds: float, uniform: float) -> float:
    """Exponential backoff with full jitter; ``uniform`` is a draw from [0, 1)."""
    return uniform * min(cap_seconds, base_seconds * (2**attempt))
