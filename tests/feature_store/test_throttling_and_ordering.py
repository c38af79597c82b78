"""Throttled reads lose nothing and mislabel nothing; any write order keeps the newest."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdas.feature_store.client import FeatureStoreClient
from lambdas.feature_store.online_item import WriteOutcome
from lambdas.feature_store.reads import Status

from .conftest import NOW_MS, FakeClock, make_client, make_record


class ThrottlingDynamo:
    """Real (moto) client whose BatchGetItem serves only ``serve`` keys per call for the
    first ``throttled_calls`` calls, returning the rest as UnprocessedKeys."""

    def __init__(self, real: Any, serve: int, throttled_calls: int, error_calls: int = 0) -> None:
        self.real = real
        self.serve = serve
        self.throttled_calls = throttled_calls
        self.error_calls = error_calls
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.error_calls:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                "BatchGetItem",
            )
        if self.calls > self.error_calls + self.throttled_calls:
            return dict(self.real.batch_get_item(RequestItems=RequestItems))
        ((table, request),) = RequestItems.items()
        served, held = request["Keys"][: self.serve], request["Keys"][self.serve :]
        response = dict(self.real.batch_get_item(RequestItems={table: {**request, "Keys": served}}))
        response["UnprocessedKeys"] = {table: {**request, "Keys": held}} if held else {}
        return response


def seed(client: FeatureStoreClient, ids: list[str]) -> None:
    client.put_records("user_activity", [make_record(i, NOW_MS / 1000 - 60) for i in ids])


def test_unprocessed_keys_are_retried_until_every_key_is_answered(
    dynamodb: Any, s3: Any, clock: FakeClock
) -> None:
    ids = [f"u{i}" for i in range(30)]
    seed(make_client(dynamodb, s3, clock), ids[::3])
    throttled = ThrottlingDynamo(dynamodb, serve=7, throttled_calls=3)
    client = make_client(throttled, s3, clock, deadline_seconds=5.0)
    response = client.get_features("user_activity", ids, ["country"])
    expected = [Status.PRESENT if i % 3 == 0 else Status.MISSING for i in range(30)]
    assert [r.statuses[0] for r in response] == expected
    assert response.round_trips == 4
    # Full jitter: each wait is within [0, base * 2**attempt].
    assert len(clock.sleeps) == 3
    assert all(0 <= s <= 0.02 * 2**k for k, s in enumerate(clock.sleeps))


def test_keys_still_unprocessed_at_the_deadline_are_unavailable_never_missing(
    dynamodb: Any, s3: Any, clock: FakeClock
) -> None:
    ids = [f"u{i}" for i in range(20)]
    seed(make_client(dynamodb, s3, clock), ids[:10])
    throttled = ThrottlingDynamo(dynamodb, serve=4, throttled_calls=10_000)
    client = make_client(throttled, s3, clock, deadline_seconds=0.05)
    response = client.get_features("user_activity", ids, ["country"])
    statuses = [r.statuses[0] for r in response]
    answered = throttled.calls * 4
    assert answered < 20
    # Every key DynamoDB answered is labelled from its answer; the rest are UNAVAILABLE.
    assert statuses[:answered] == [Status.PRESENT if i < 10 else Status.MISSING for i in range(answered)]
    assert statuses[answered:] == [Status.UNAVAILABLE] * (20 - answered)
    assert response[19].reason is not None and "UnprocessedKeys" in response[19].reason
    assert clock.now <= 0.05


def test_throughput_exceptions_are_retried_like_unprocessed_keys(
    dynamodb: Any, s3: Any, clock: FakeClock
) -> None:
    seed(make_client(dynamodb, s3, clock), ["u1"])
    throttled = ThrottlingDynamo(dynamodb, serve=100, throttled_calls=0, error_calls=2)
    response = make_client(throttled, s3, clock).get_features("user_activity", ["u1", "u2"], ["country"])
    assert [r.statuses[0] for r in response] == [Status.PRESENT, Status.MISSING]
    assert response.round_trips == 3


def test_non_retryable_errors_propagate(dynamodb: Any, s3: Any, clock: FakeClock) -> None:
    client = make_client(dynamodb, s3, clock, table_name="no-such-table")
    with pytest.raises(ClientError):
        client.get_features("user_activity", ["u1"])


_entity_counter = itertools.count()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    writes=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=8),
    batch_sizes=st.lists(st.integers(min_value=1, max_value=3), min_size=8, max_size=8),
)
def test_any_write_order_leaves_the_newest_event_time_and_labels_each_write(
    dynamodb: Any, s3: Any, clock: FakeClock, writes: list[int], batch_sizes: list[int]
) -> None:
    """``writes`` are event-time offsets in arrival order (repeats allowed), delivered in
    batches of varying size; each write carries its arrival index as a value."""
    client = make_client(dynamodb, s3, clock)
    entity = f"e{next(_entity_counter)}"
    records = [
        make_record(entity, NOW_MS / 1000 - 100 + offset, txn_count_1h=arrival)
        for arrival, offset in enumerate(writes)
    ]
    outcomes: list[WriteOutcome] = []
    position = 0
    for size in batch_sizes:
        batch = records[position : position + size]
        if not batch:
            break
        outcomes.extend(r.outcome for r in client.put_records("user_activity", batch).results)
        position += size
    if position < len(records):
        outcomes.extend(r.outcome for r in client.put_records("user_activity", records[position:]).results)

    newest = max(writes)
    first_newest_arrival = writes.index(newest)
    row = client.get_features("user_activity", [entity], ["txn_count_1h"])[0]
    assert row.event_time_ms == NOW_MS - 100_000 + newest * 1000
    assert row.values == [first_newest_arrival]

    expected: list[WriteOutcome] = []
    best: int | None = None
    for offset in writes:
        if best is None or offset > best:
            expected.append(WriteOutcome.WRITTEN)
            best = offset
        elif offset == best:
            expected.append(WriteOutcome.UNCHANGED)
        else:
            expected.append(WriteOutcome.SUPERSEDED)
    assert outcomes == expected
