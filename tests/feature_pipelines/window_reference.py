"""Brute-force window semantics over raw events, the reference the window state is checked against."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lambdas.feature_pipelines.window_spec import Aggregation, StreamingFeatureSpec
from lambdas.feature_pipelines.windows import Outcome


@dataclass(frozen=True)
class RawEvent:
    entity: str
    event_id: str
    event_time_ms: int
    amount: float | None
    merchant: str | None
    arrival_ms: int | None = None

    def payload(self) -> dict[str, object]:
        return {
            "card": self.entity,
            "event_id": self.event_id,
            "event_time": self.event_time_ms / 1000,
            "amount": self.amount,
            "merchant": self.merchant,
        }


def reference_outcomes(events: Sequence[RawEvent], spec: StreamingFeatureSpec) -> list[Outcome]:
    watermark: int | None = None
    accepted: set[str] = set()
    outcomes = []
    for e in events:
        if e.arrival_ms is not None and e.event_time_ms > e.arrival_ms + spec.max_future_skew_seconds * 1000:
            outcomes.append(Outcome.FUTURE)
        elif watermark is not None and e.event_time_ms < watermark - spec.lateness_ms:
            outcomes.append(Outcome.LATE)
        elif e.event_id in accepted:
            outcomes.append(Outcome.DUPLICATE)
        else:
            accepted.add(e.event_id)
            watermark = e.event_time_ms if watermark is None else max(watermark, e.event_time_ms)
            outcomes.append(Outcome.ACCEPTED)
    return outcomes


def reference_values(
    accepted: Sequence[RawEvent], spec: StreamingFeatureSpec
) -> dict[str, float | int | None]:
    watermark = max(e.event_time_ms for e in accepted)
    newest = watermark // spec.bucket_ms
    values: dict[str, float | int | None] = {}
    for feature in spec.features:
        first = newest - spec.window_buckets(feature) + 1
        inside = [e for e in accepted if e.event_time_ms // spec.bucket_ms >= first]
        amounts = [e.amount for e in inside if e.amount is not None]
        if feature.aggregation is Aggregation.COUNT:
            values[feature.name] = len(inside)
        elif feature.aggregation is Aggregation.SUM:
            values[feature.name] = math.fsum(amounts)
        elif feature.aggregation is Aggregation.MEAN:
            values[feature.name] = math.fsum(amounts) / len(amounts) if amounts else None
        else:
            values[feature.name] = len({e.merchant for e in inside if e.merchant is not None})
    return values
