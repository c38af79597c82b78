"""The decision path: features → score → decision → audit → review queue.

Failure rule (documented in the README): if the card's or merchant's features cannot be
read, the velocity windows cannot be updated, or the model does not answer in time, the
transaction goes to **manual review** with the cause recorded. It is never approved
without a score. Failing to write the velocity features back does not change the
decision (the decision already has them); it is recorded in the audit log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fraud_service.audit import AuditLog
from fraud_service.decision import Decision, Outcome, Thresholds, decide
from fraud_service.feature_groups import CARD_PROFILE, MERCHANT_PROFILE
from fraud_service.feature_writer import VelocityWriter, velocity_record
from fraud_service.model_features import model_inputs
from fraud_service.scoring import Scorer, ScoringUnavailable
from fraud_service.transaction import Transaction
from fraud_service.velocity import VelocityUnavailable, VelocityWindows
from lambdas.common.errors import InputError
from lambdas.feature_store.client import FeatureStoreClient
from lambdas.feature_store.reads import EntityFeatures, Status

_AWS_ERRORS = (ClientError, BotoCoreError)


@dataclass(frozen=True)
class DecisionResult:
    transaction_id: str
    outcome: Outcome
    reason: str
    score: float | None
    model_version: str | None
    fallback: bool
    audit_key: str
    replayed: bool  # True: the decision on record for this transaction id was returned
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_response(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "decision": self.outcome.value,
            "reason": self.reason,
            "score": self.score,
            "model_version": self.model_version,
            "fallback": self.fallback,
            "replayed": self.replayed,
        }


class ReviewQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, message: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(message, separators=(",", ":")))


def _values(row: EntityFeatures) -> tuple[dict[str, Any], dict[str, str]]:
    # A STALE value is still the best estimate of the card's history; its status is audited.
    usable = (Status.PRESENT, Status.STALE)
    values = {
        n: (v if s in usable else None) for n, v, s in zip(row.names, row.values, row.statuses, strict=True)
    }
    return values, {n: s.value for n, s in zip(row.names, row.statuses, strict=True)}


@dataclass
class FraudDecisionService:
    features: FeatureStoreClient
    velocity: VelocityWindows
    velocity_writer: VelocityWriter
    scorer: Scorer
    audit: AuditLog
    review_queue: ReviewQueue
    thresholds: Thresholds = field(default_factory=Thresholds)
    feature_deadline_seconds: float = 0.1
    wall_clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000
    monotonic: Callable[[], float] = time.perf_counter

    def decide(self, txn: Transaction) -> DecisionResult:
        timings: dict[str, float] = {}
        started = mark = self.monotonic()

        def lap(name: str) -> None:
            nonlocal mark
            now = self.monotonic()
            timings[name] = (now - mark) * 1000
            mark = now

        unavailable: list[str] = []
        card: dict[str, Any] = {}
        merchant: dict[str, Any] = {}
        statuses: dict[str, dict[str, str]] = {}
        try:
            card, statuses[CARD_PROFILE.name] = self._read(CARD_PROFILE.name, txn.card_id)
            merchant, statuses[MERCHANT_PROFILE.name] = self._read(MERCHANT_PROFILE.name, txn.merchant_id)
        except (*_AWS_ERRORS, InputError) as exc:
            unavailable.append(f"feature store unavailable ({_describe(exc)})")
        unavailable += [
            f"feature store unavailable ({group}: {s.lower()})"
            for group, by_name in statuses.items()
            for s in sorted(set(by_name.values()))
            if s == Status.UNAVAILABLE
        ]
        lap("profiles")

        velocity_values: dict[str, Any] = {}
        velocity_written: bool | str = False
        try:
            velocity = self.velocity.update(txn, arrival_ms=self.wall_clock_ms())
            velocity_values = velocity.values
            lap("velocity")
            try:
                self.velocity_writer.write(velocity_record(txn.card_id, velocity.emitted_ms, velocity.values))
                velocity_written = True
            except (*_AWS_ERRORS, ValueError, InputError) as exc:
                velocity_written = f"not written: {_describe(exc)}"
            lap("velocity_write")
        except (*_AWS_ERRORS, VelocityUnavailable) as exc:
            unavailable.append(f"velocity windows unavailable ({_describe(exc)})")
            lap("velocity")

        inputs = model_inputs(
            amount=txn.amount,
            country=txn.country,
            hour_utc=txn.event_time.hour,
            card=card,
            merchant=merchant,
            velocity=velocity_values,
        )
        score: float | None = None
        model_version: str | None = None
        if not unavailable:
            try:
                scored = self.scorer.score(txn.transaction_id, inputs)
                score, model_version = scored.score, scored.model_version
            except ScoringUnavailable as exc:
                unavailable.append(f"model unavailable ({exc})")
        lap("score")

        decision = decide(score, txn.amount, self.thresholds, unavailable="; ".join(unavailable))
        lap("decide")
        recorded = self.audit.record(
            txn.transaction_id,
            self._audit_record(txn, decision, model_version, inputs, statuses, velocity_written),
        )
        lap("audit")
        record = recorded.record
        outcome = Outcome(record["decision"])
        if outcome is Outcome.REVIEW:
            # Sent again on a replay too: if the first attempt died between the audit write and
            # the send, the retry must still reach a reviewer. Reviewers dedupe on the id.
            self.review_queue.send(
                {
                    "transaction_id": txn.transaction_id,
                    "inference_id": txn.transaction_id,
                    "card_id": txn.card_id,
                    "merchant_id": txn.merchant_id,
                    "amount": txn.amount,
                    "score": record["score"],
                    "reason": record["reason"],
                    "model_version": record["model_version"],
                    "audit_key": recorded.key,
                }
            )
        lap("review_queue")
        timings["total"] = (self.monotonic() - started) * 1000
        return DecisionResult(
            transaction_id=txn.transaction_id,
            outcome=outcome,
            reason=str(record["reason"]),
            score=record["score"],
            model_version=record["model_version"],
            fallback=bool(record["fallback"]),
            audit_key=recorded.key,
            replayed=not recorded.created,
            timings_ms=timings,
        )

    def _read(self, group: str, entity_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        response = self.features.get_features(
            group, [entity_id], deadline_seconds=self.feature_deadline_seconds
        )
        return _values(response[0])

    def _audit_record(
        self,
        txn: Transaction,
        decision: Decision,
        model_version: str | None,
        inputs: dict[str, float | None],
        statuses: dict[str, dict[str, str]],
        velocity_written: bool | str,
    ) -> dict[str, Any]:
        return {
            "transaction": txn.to_json(),
            "decision": decision.outcome.value,
            "reason": decision.reason,
            "score": decision.score,
            "fallback": decision.fallback,
            "model_version": model_version,
            "thresholds": self.thresholds.model_dump(),
            "model_inputs": inputs,
            "feature_statuses": statuses,
            "velocity_written": velocity_written,
            "decided_at_ms": self.wall_clock_ms(),
        }


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return f"{exc.response.get('Error', {}).get('Code', 'error')}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
