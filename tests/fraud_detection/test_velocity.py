"""The card's velocity windows over moto: values against a brute-force count, retries
counted once, and a concurrent writer's event kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fraud_service.feature_groups import VELOCITY_SPEC
from fraud_service.transaction import Transaction, parse_transaction
from fraud_service.velocity import VelocityUnavailable, VelocityWindows

from lambdas.feature_pipelines.windows import Outcome

START = datetime(2026, 3, 4, 12, 0, 0, tzinfo=UTC)


def txn(i: int, seconds: float, amount: float, merchant: str, card: str = "c1") -> Transaction:
    return parse_transaction(
        {
            "transaction_id": f"t{i}",
            "card_id": card,
            "merchant_id": merchant,
            "amount": amount,
            "currency": "USD",
            "country": "US",
            "event_time": (START + timedelta(seconds=seconds)).isoformat(),
        }
    )


def test_windows_match_a_brute_force_count_and_retries_count_once(aws: Any) -> None:
    windows = VelocityWindows(aws.dynamodb, aws.state_table, VELOCITY_SPEC)
    events = [(0, 10.0, "m1"), (50, 20.0, "m2"), (130, 30.0, "m1"), (400, 40.0, "m3"), (700, 50.0, "m4")]
    for i, (seconds, amount, merchant) in enumerate(events):
        last = windows.update(txn(i, seconds, amount, merchant))
    retried = windows.update(txn(4, 700, 50.0, "m4"))

    # At 700 s the 10-minute window holds the buckets from minute 2 through minute 11
    # (one-minute buckets): the events at 130, 400 and 700 s.
    assert last.values == {
        "txn_count_10m": 3,
        "txn_count_1h": 5,
        "amount_sum_1h": 150.0,
        "amount_mean_24h": 30.0,
        "merchants_24h": 4,
    }
    assert retried.outcome is Outcome.DUPLICATE and retried.values == last.values
    assert last.emitted_ms == round((START + timedelta(seconds=700)).timestamp() * 1000)


class RacingDynamoDB:
    """Another writer saves the card's state between our load and our save, `races` times."""

    def __init__(self, inner: Any, windows: list[VelocityWindows], races: int) -> None:
        self._inner = inner
        self._windows = windows
        self._races = races

    def put_item(self, **kwargs: Any) -> Any:
        if self._races:
            self._races -= 1
            self._windows[0].update(txn(100 + self._races, 5, 99.0, "rival"))
        return self._inner.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_concurrent_save_is_reloaded_and_both_events_are_kept(aws: Any) -> None:
    rival = VelocityWindows(aws.dynamodb, aws.state_table, VELOCITY_SPEC)
    ours = VelocityWindows(RacingDynamoDB(aws.dynamodb, [rival], races=1), aws.state_table, VELOCITY_SPEC)
    result = ours.update(txn(1, 10, 1.0, "m1"))
    assert result.values["txn_count_10m"] == 2 and result.values["amount_sum_1h"] == 100.0


def test_a_card_that_keeps_changing_under_us_is_unavailable(aws: Any) -> None:
    rival = VelocityWindows(aws.dynamodb, aws.state_table, VELOCITY_SPEC)
    ours = VelocityWindows(RacingDynamoDB(aws.dynamodb, [rival], races=10), aws.state_table, VELOCITY_SPEC)
    with pytest.raises(VelocityUnavailable, match="changed 4 times"):
        ours.update(txn(1, 10, 1.0, "m1"))
