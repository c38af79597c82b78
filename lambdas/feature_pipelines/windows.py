"""Applying events to an entity's window state and reading the windowed features.

Semantics (the tests check them against a brute-force computation over raw events):
- The entity's watermark is the newest accepted event time. Features are evaluated at the
  watermark: a window of ``k`` buckets holds the events whose bucket index is within the
  last ``k`` buckets up to and including the watermark's bucket.
- An event older than ``watermark - allowed_lateness`` is rejected as late; one whose
  time is after its arrival time plus ``max_future_skew`` is rejected as from the future
  (it would otherwise drag the watermark forward and make every honest event late).
- Within the lateness, an event id already accepted is a duplicate and changes nothing,
  so redelivered or out-of-order events are counted exactly once. An event id identifies
  one event: a redelivery carries the same event time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from lambdas.feature_pipelines.stream_events import StreamEvent, event_id_hash
from lambdas.feature_pipelines.window_spec import Aggregation, StreamingFeatureSpec
from lambdas.feature_pipelines.window_state import BucketAggregate, DistinctTracker, EntityWindowState


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    LATE = "late"
    FUTURE = "future"
    BEYOND_DEDUPE_HORIZON = "beyond_dedupe_horizon"


REJECTION_REASONS: dict[Outcome, str] = {
    Outcome.LATE: "event time is older than the entity's newest event minus the allowed lateness",
    Outcome.FUTURE: "event time is later than its arrival time plus the allowed future skew",
    Outcome.BEYOND_DEDUPE_HORIZON: (
        "event time is older than the oldest event id still remembered for de-duplication "
        "(raise max_tracked_event_ids or lower the lateness)"
    ),
}


@dataclass(frozen=True)
class FeatureValues:
    """The windowed features of one entity as of its watermark."""

    entity: str
    event_time_ms: int
    values: dict[str, float | int | None]
    lower_bounds: tuple[str, ...] = ()


@dataclass
class BatchSummary:
    """How many events of a batch ended in each outcome."""

    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] += 1


def apply_event(state: EntityWindowState, event: StreamEvent, spec: StreamingFeatureSpec) -> Outcome:
    """Fold one event into `state` (mutated) and say what happened to it."""
    if (
        event.arrival_ms is not None
        and event.event_time_ms > event.arrival_ms + spec.max_future_skew_seconds * 1000
    ):
        return Outcome.FUTURE
    watermark = state.watermark_ms
    if watermark is not None and event.event_time_ms < watermark - spec.lateness_ms:
        return Outcome.LATE
    if state.dedupe_floor_ms is not None and event.event_time_ms < state.dedupe_floor_ms:
        return Outcome.BEYOND_DEDUPE_HORIZON
    id_hash = event_id_hash(event.event_id)
    if id_hash in state.seen_ids:
        return Outcome.DUPLICATE
    state.seen_ids[id_hash] = event.event_time_ms

    old_bucket = None if watermark is None else watermark // spec.bucket_ms
    if watermark is None or event.event_time_ms > watermark:
        state.watermark_ms = event.event_time_ms
    newest_bucket = state.watermark_ms // spec.bucket_ms  # type: ignore[operator]
    oldest_kept = newest_bucket - spec.max_window_buckets + 1
    bucket = event.event_time_ms // spec.bucket_ms
    if bucket >= oldest_kept:
        _add_to_bucket(state, bucket, event)
        for name, value_hash in event.distinct_hashes.items():
            tracker = state.distinct.setdefault(name, DistinctTracker())
            previous = tracker.last_bucket.get(value_hash)
            if previous is None or bucket > previous:
                tracker.last_bucket[value_hash] = bucket
            if len(tracker.last_bucket) > spec.max_distinct_values:
                _evict_oldest_values(tracker, spec.max_distinct_values)
    if old_bucket != newest_bucket:
        _drop_expired(state, oldest_kept, spec)
    if len(state.seen_ids) > spec.max_tracked_event_ids:
        _shrink_seen_ids(state, spec)
    return Outcome.ACCEPTED


def apply_events(
    state: EntityWindowState, events: Iterable[StreamEvent], spec: StreamingFeatureSpec
) -> list[Outcome]:
    """Apply events in arrival order; the order matters for lateness, as on the stream."""
    return [apply_event(state, event, spec) for event in events]


def _add_to_bucket(state: EntityWindowState, bucket: int, event: StreamEvent) -> None:
    agg = state.buckets.get(bucket)
    if agg is None:
        agg = state.buckets[bucket] = BucketAggregate()
    agg.events += 1
    for name, value in event.numbers.items():
        agg.counts[name] = agg.counts.get(name, 0) + 1
        agg.sums[name] = agg.sums.get(name, 0.0) + value


def _evict_oldest_values(tracker: DistinctTracker, cap: int) -> None:
    ordered = sorted(tracker.last_bucket.items(), key=lambda item: item[1])
    excess = ordered[: len(ordered) - cap]
    for value_hash, _ in excess:
        del tracker.last_bucket[value_hash]
    newest_evicted = excess[-1][1]
    if tracker.evicted_through is None or newest_evicted > tracker.evicted_through:
        tracker.evicted_through = newest_evicted


def _drop_expired(state: EntityWindowState, oldest_kept: int, spec: StreamingFeatureSpec) -> None:
    for idx in [idx for idx in state.buckets if idx < oldest_kept]:
        del state.buckets[idx]
    for tracker in state.distinct.values():
        for value_hash in [h for h, idx in tracker.last_bucket.items() if idx < oldest_kept]:
            del tracker.last_bucket[value_hash]
        if tracker.evicted_through is not None and tracker.evicted_through < oldest_kept:
            tracker.evicted_through = None
    assert state.watermark_ms is not None
    horizon = state.watermark_ms - spec.lateness_ms
    for id_hash in [h for h, t in state.seen_ids.items() if t < horizon]:
        del state.seen_ids[id_hash]
    if state.dedupe_floor_ms is not None and state.dedupe_floor_ms <= horizon:
        state.dedupe_floor_ms = None


def _shrink_seen_ids(state: EntityWindowState, spec: StreamingFeatureSpec) -> None:
    assert state.watermark_ms is not None
    horizon = state.watermark_ms - spec.lateness_ms
    for id_hash in [h for h, t in state.seen_ids.items() if t < horizon]:
        del state.seen_ids[id_hash]
    if len(state.seen_ids) <= spec.max_tracked_event_ids:
        return
    ordered = sorted(state.seen_ids.items(), key=lambda item: item[1])
    excess = ordered[: len(ordered) - spec.max_tracked_event_ids]
    newest_evicted = excess[-1][1]
    # Forget every id at or before the newest evicted time so the floor is exact.
    for id_hash, event_time in ordered:
        if event_time > newest_evicted:
            break
        del state.seen_ids[id_hash]
    state.dedupe_floor_ms = newest_evicted + 1


def _window_totals(
    state: EntityWindowState, first: int, newest: int
) -> tuple[int, dict[str, int], dict[str, float]]:
    events = 0
    counts: dict[str, int] = {}
    sums: dict[str, float] = {}
    for idx, agg in state.buckets.items():
        if first <= idx <= newest:
            events += agg.events
            for name, count in agg.counts.items():
                counts[name] = counts.get(name, 0) + count
                sums[name] = sums.get(name, 0.0) + agg.sums[name]
    return events, counts, sums


def feature_values(entity: str, state: EntityWindowState, spec: StreamingFeatureSpec) -> FeatureValues | None:
    """The entity's features at its watermark, or None before any event was accepted."""
    if state.watermark_ms is None:
        return None
    newest = state.watermark_ms // spec.bucket_ms
    totals: dict[int, tuple[int, dict[str, int], dict[str, float]]] = {}
    values: dict[str, float | int | None] = {}
    lower_bounds: list[str] = []
    for feature in spec.features:
        first = newest - spec.window_buckets(feature) + 1
        if feature.aggregation is Aggregation.DISTINCT_COUNT:
            assert feature.field is not None
            tracker = state.distinct.get(feature.field, DistinctTracker())
            values[feature.name] = sum(1 for idx in tracker.last_bucket.values() if idx >= first)
            if tracker.evicted_through is not None and tracker.evicted_through >= first:
                lower_bounds.append(feature.name)
            continue
        if first not in totals:
            totals[first] = _window_totals(state, first, newest)
        events, counts, sums = totals[first]
        if feature.aggregation is Aggregation.COUNT:
            values[feature.name] = events
            continue
        assert feature.field is not None
        total = sums.get(feature.field, 0.0)
        if feature.aggregation is Aggregation.SUM:
            values[feature.name] = total
        else:
            count = counts.get(feature.field, 0)
            values[feature.name] = total / count if count else None
    return FeatureValues(entity, state.watermark_ms, values, tuple(lower_bounds))


def advance_emission(state: EntityWindowState, outcomes: Iterable[Outcome]) -> int | None:
    """The event time to write the entity's features under, recorded in `state`.

    The feature store ignores a write whose event time equals the stored one, so a late
    event that changes the values without moving the watermark would be lost. Such a
    correction is emitted 1 ms after the previous emission instead: the values are the
    windows at the watermark, stamped with the first instant the store will accept. A
    batch of only duplicates re-emits the previous time, which the store treats as a
    no-op if it already holds it (and writes it if the previous attempt failed).
    """
    if state.watermark_ms is None:
        return None
    if any(o is Outcome.ACCEPTED for o in outcomes):
        previous = state.emitted_ms
        if previous is None or state.watermark_ms > previous:
            state.emitted_ms = state.watermark_ms
        else:
            state.emitted_ms = previous + 1
    return state.emitted_ms if state.emitted_ms is not None else state.watermark_ms
