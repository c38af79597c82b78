from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.common.errors import InputError
from lambdas.feature_pipelines.stream_events import StreamEvent, parse_event
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec
from lambdas.feature_pipelines.window_state import EntityWindowState
from lambdas.feature_pipelines.windows import (
    Outcome,
    advance_emission,
    apply_event,
    apply_events,
    feature_values,
)
from tests.feature_pipelines.window_reference import RawEvent, reference_outcomes, reference_values

SPEC = StreamingFeatureSpec.parse(
    {
        "feature_group": "card_activity",
        "entity_key": "card",
        "bucket_seconds": 60,
        "allowed_lateness_seconds": 600,
        "max_future_skew_seconds": 120,
        "features": [
            {"name": "txn_count_10m", "aggregation": "count", "window_seconds": 600},
            {"name": "txn_count_2h", "aggregation": "count", "window_seconds": 7200},
            {"name": "amount_sum_10m", "aggregation": "sum", "field": "amount", "window_seconds": 600},
            {"name": "amount_mean_1h", "aggregation": "mean", "field": "amount", "window_seconds": 3600},
            {
                "name": "merchants_30m",
                "aggregation": "distinct_count",
                "field": "merchant",
                "window_seconds": 1800,
            },
        ],
    }
)


def _run(
    events: list[RawEvent], spec: StreamingFeatureSpec, batch_sizes: list[int]
) -> tuple[list[Outcome], dict]:
    """Feed events through per-entity states, serialising the state between batches as the handler does."""
    states: dict[str, bytes] = {}
    outcomes: list[Outcome] = []
    start = 0
    sizes = iter(batch_sizes)
    while start < len(events):
        size = next(sizes, len(events))
        batch = events[start : start + max(size, 1)]
        start += max(size, 1)
        live: dict[str, EntityWindowState] = {}
        for raw in batch:
            state = live.get(raw.entity)
            if state is None:
                blob = states.get(raw.entity)
                state = live[raw.entity] = EntityWindowState.decode(blob) if blob else EntityWindowState()
            event = parse_event(raw.payload(), spec, arrival_ms=raw.arrival_ms)
            outcomes.append(apply_event(state, event, spec))
        for entity, state in live.items():
            states[entity] = state.encode()
    final = {
        entity: feature_values(entity, EntityWindowState.decode(blob), spec)
        for entity, blob in states.items()
    }
    return outcomes, final


def _assert_values_match(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        if value is None or isinstance(value, int):
            assert actual[name] == value, name
        else:
            assert actual[name] == pytest.approx(value, rel=1e-9, abs=1e-6), name


base_events = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3"]),
        st.integers(min_value=0, max_value=3 * 3600),
        st.one_of(st.none(), st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)),
        st.one_of(st.none(), st.sampled_from(["m1", "m2", "m3", "m4", "m5", "m6"])),
        st.integers(min_value=-60, max_value=400),
    ),
    min_size=1,
    max_size=60,
)


@st.composite
def event_streams(draw: st.DrawFn) -> tuple[list[RawEvent], list[int]]:
    bases = draw(base_events)
    originals = [
        RawEvent(entity, f"e{i}", seconds * 1000, amount, merchant, arrival_ms=(seconds + delay) * 1000)
        for i, (entity, seconds, amount, merchant, delay) in enumerate(bases)
    ]
    duplicates = draw(st.lists(st.sampled_from(originals), max_size=20))
    # Redeliveries arrive later than the original, with the same id and event time.
    stream = draw(st.permutations(originals + duplicates))
    batch_sizes = draw(st.lists(st.integers(min_value=1, max_value=25), max_size=10))
    return list(stream), batch_sizes


@settings(max_examples=150, deadline=None)
@given(event_streams())
def test_out_of_order_and_duplicate_events_match_brute_force_across_batches(
    stream: tuple[list[RawEvent], list[int]],
) -> None:
    events, batch_sizes = stream
    outcomes, final = _run(events, SPEC, batch_sizes)
    for entity in {e.entity for e in events}:
        mine = [(i, e) for i, e in enumerate(events) if e.entity == entity]
        expected_outcomes = reference_outcomes([e for _, e in mine], SPEC)
        assert [outcomes[i] for i, _ in mine] == expected_outcomes
        accepted = [e for (_, e), o in zip(mine, expected_outcomes, strict=True) if o is Outcome.ACCEPTED]
        if accepted:
            got = final[entity]
            assert got.event_time_ms == max(e.event_time_ms for e in accepted)
            assert got.lower_bounds == ()
            _assert_values_match(got.values, reference_values(accepted, SPEC))


@settings(max_examples=80, deadline=None)
@given(event_streams())
def test_bounded_state_never_counts_an_event_twice(stream: tuple[list[RawEvent], list[int]]) -> None:
    tight = SPEC.model_copy(update={"max_tracked_event_ids": 3, "max_distinct_values": 2})
    events, batch_sizes = stream
    outcomes, final = _run(events, tight, batch_sizes)
    for entity in {e.entity for e in events}:
        mine = [(e, outcomes[i]) for i, e in enumerate(events) if e.entity == entity]
        accepted = [e for e, o in mine if o is Outcome.ACCEPTED]
        assert len({e.event_id for e in accepted}) == len(accepted)
        if not accepted:
            continue
        expected = reference_values(accepted, tight)
        got = final[entity]
        for name, value in expected.items():
            if name == "merchants_30m":
                assert got.values[name] <= value
                if name not in got.lower_bounds:
                    assert got.values[name] == value
            elif isinstance(value, float):
                assert got.values[name] == pytest.approx(value, rel=1e-9, abs=1e-6)
            else:
                assert got.values[name] == value


def test_late_event_beyond_lateness_is_rejected_and_within_lateness_counted_once() -> None:
    state = EntityWindowState()
    t0 = 10_000 * 1000

    def ev(event_id: str, seconds_before: int) -> StreamEvent:
        payload = {
            "card": "c",
            "event_id": event_id,
            "event_time": (t0 - seconds_before * 1000) / 1000,
            "amount": 2.0,
        }
        return parse_event(payload, SPEC)

    assert apply_event(state, ev("a", 0), SPEC) is Outcome.ACCEPTED
    assert apply_event(state, ev("b", 300), SPEC) is Outcome.ACCEPTED
    assert apply_event(state, ev("b", 300), SPEC) is Outcome.DUPLICATE
    assert apply_event(state, ev("c", 601), SPEC) is Outcome.LATE
    values = feature_values("c", state, SPEC)
    assert values is not None
    assert values.values["txn_count_10m"] == 2
    assert values.values["amount_sum_10m"] == 4.0


def test_event_far_in_the_future_is_rejected_and_does_not_move_the_watermark() -> None:
    state = EntityWindowState()
    now = 1_700_000_000_000
    good = parse_event({"card": "c", "event_id": "a", "event_time": now / 1000}, SPEC, arrival_ms=now)
    future = parse_event(
        {"card": "c", "event_id": "b", "event_time": now / 1000 + 3600}, SPEC, arrival_ms=now
    )
    assert apply_event(state, good, SPEC) is Outcome.ACCEPTED
    assert apply_event(state, future, SPEC) is Outcome.FUTURE
    assert state.watermark_ms == now


def test_state_size_stays_bounded_for_a_hot_entity() -> None:
    state = EntityWindowState()
    for i in range(4_020):
        payload = {
            "card": "hot",
            "event_id": f"e{i}",
            "event_time": i * 2.0,
            "amount": 1.0,
            "merchant": f"m{i}",
        }
        apply_event(state, parse_event(payload, SPEC), SPEC)
    assert len(state.buckets) <= SPEC.max_window_buckets
    assert len(state.seen_ids) <= SPEC.max_tracked_event_ids
    assert len(state.encode()) < 350_000
    values = feature_values("hot", state, SPEC)
    assert values is not None
    # 2 s apart, ending on a full bucket: 10 minutes of 60 s buckets holds 300 events, 30 minutes of distinct merchants 900.
    assert values.values["txn_count_10m"] == 300
    assert values.values["merchants_30m"] == 900


def test_malformed_event_names_every_bad_field() -> None:
    with pytest.raises(InputError) as info:
        parse_event({"card": "", "event_time": "yesterday", "amount": "12", "merchant": [1]}, SPEC)
    fields = {p.field for p in info.value.problems}
    assert fields == {"card", "event_id", "event_time", "amount", "merchant"}


def test_naive_timestamp_is_rejected_with_the_fix() -> None:
    with pytest.raises(InputError, match="no UTC offset"):
        parse_event({"card": "c", "event_id": "a", "event_time": "2024-01-01T00:00:00"}, SPEC)


def test_iso_and_epoch_event_times_agree() -> None:
    a = parse_event({"card": "c", "event_id": "a", "event_time": "2024-01-01T00:00:00Z"}, SPEC)
    b = parse_event({"card": "c", "event_id": "a", "event_time": 1704067200}, SPEC)
    assert a.event_time_ms == b.event_time_ms == 1_704_067_200_000


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ({"name": "n", "aggregation": "count", "field": "x", "window_seconds": 60}, "takes no field"),
        ({"name": "n", "aggregation": "sum", "window_seconds": 60}, "needs 'field'"),
        ({"name": "n", "aggregation": "count", "window_seconds": 90}, "not a multiple"),
        ({"name": "n", "aggregation": "median", "window_seconds": 60}, "aggregation"),
    ],
)
def test_invalid_spec_is_an_input_error_naming_the_problem(feature: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        StreamingFeatureSpec.parse({"feature_group": "g", "entity_key": "k", "features": [feature]})


def test_mean_of_window_without_values_is_none() -> None:
    state = EntityWindowState()
    apply_event(state, parse_event({"card": "c", "event_id": "a", "event_time": 60.0}, SPEC), SPEC)
    values = feature_values("c", state, SPEC)
    assert values is not None
    assert values.values["amount_mean_1h"] is None
    assert not math.isnan(values.values["amount_sum_10m"])  # type: ignore[arg-type]


def test_late_correction_is_emitted_after_the_previous_emission() -> None:
    state = EntityWindowState()
    first = [parse_event({"card": "c", "event_id": "a", "event_time": 1000.0}, SPEC)]
    assert advance_emission(state, apply_events(state, first, SPEC)) == 1_000_000
    late = [parse_event({"card": "c", "event_id": "b", "event_time": 990.0}, SPEC)]
    assert advance_emission(state, apply_events(state, late, SPEC)) == 1_000_001
    assert advance_emission(state, apply_events(state, late, SPEC)) == 1_000_001
    newer = [parse_event({"card": "c", "event_id": "c", "event_time": 1100.0}, SPEC)]
    assert advance_emission(state, apply_events(state, newer, SPEC)) == 1_100_000
