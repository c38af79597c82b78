"""A card's velocity windows, updated with the transaction being decided.

Reuses the platform's streaming window logic (`lambdas.feature_pipelines`): the same
bucketed state, de-duplication by event id (a retried request with the same transaction
id is counted once) and lateness rules, kept in a DynamoDB item per card with an
optimistic-concurrency save. The transaction is applied before scoring, so its own
amount and merchant are inside the windows the model sees (as in training).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fraud_service.transaction import Transaction
from lambdas.feature_pipelines.state_store import WindowStateStore
from lambdas.feature_pipelines.stream_events import StreamEvent, value_hash
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec
from lambdas.feature_pipelines.windows import Outcome, advance_emission, apply_event, feature_values

MAX_SAVE_ATTEMPTS = 4


class VelocityUnavailable(RuntimeError):
    """The window state could not be read or saved; the reason is audited."""


@dataclass(frozen=True)
class Velocity:
    values: dict[str, float | int | None]
    emitted_ms: int  # the event time to write the card_velocity record under
    outcome: Outcome


def to_event(txn: Transaction, arrival_ms: int | None) -> StreamEvent:
    return StreamEvent(
        entity=txn.card_id,
        event_id=txn.transaction_id,
        event_time_ms=txn.event_time_ms,
        numbers={"amount": txn.amount},
        distinct_hashes={"merchant_id": value_hash(txn.merchant_id)},
        arrival_ms=arrival_ms,
    )


class VelocityWindows:
    def __init__(self, dynamodb: Any, table_name: str, spec: StreamingFeatureSpec) -> None:
        self._store = WindowStateStore(dynamodb, table_name, spec)
        self._spec = spec

    def update(self, txn: Transaction, *, arrival_ms: int | None = None) -> Velocity:
        """Apply the transaction to its card's windows and return the windows after it.

        A late or future-dated transaction is not counted (the window logic rejects it);
        the windows as they stand are returned, so it is still scored.
        """
        event = to_event(txn, arrival_ms)
        for _ in range(MAX_SAVE_ATTEMPTS):
            loaded = self._store.load(txn.card_id)
            state = loaded.state
            outcome = apply_event(state, event, self._spec)
            if outcome is not Outcome.ACCEPTED:
                break  # a duplicate, late or future event changes nothing to save
            advance_emission(state, [outcome])
            if self._store.save(txn.card_id, state, loaded.version):
                break
        else:
            raise VelocityUnavailable(
                f"card {txn.card_id}: window state changed {MAX_SAVE_ATTEMPTS} times while saving"
            )
        values = feature_values(txn.card_id, state, self._spec)
        if values is None:
            # Nothing accepted for this card yet (its first transaction came in late).
            empty: dict[str, float | int | None] = {f.name: None for f in self._spec.features}
            return Velocity(empty, txn.event_time_ms, outcome)
        emitted = state.emitted_ms if state.emitted_ms is not None else values.event_time_ms
        return Velocity(values.values, emitted, outcome)
