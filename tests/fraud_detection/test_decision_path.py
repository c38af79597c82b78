"""The whole decision path over moto (feature store, window state, S3 audit, SQS) with the
trained model scoring in process through its inference script."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fraud_service.decision import Outcome, Thresholds
from fraud_service.feature_groups import CARD_VELOCITY
from fraud_service.local_scorer import LocalScorer
from fraud_service.transaction import Transaction, parse_transaction

from lambdas.feature_store.registry import Registry
from lambdas.feature_store.validation import ValidRecord, validate_record
from tests.fraud_detection.world import feature_client, seed_profiles, service


def txn(
    i: str,
    *,
    card: str = "card-ok",
    merchant: str = "m-grocer",
    amount: float = 42.5,
    at: datetime | None = None,
    country: str = "US",
) -> Transaction:
    when = at or datetime.now(UTC) - timedelta(seconds=30)
    return parse_transaction(
        {
            "transaction_id": i,
            "card_id": card,
            "merchant_id": merchant,
            "amount": amount,
            "currency": "USD",
            "country": country,
            "event_time": when.isoformat(),
        }
    )


def review_messages(aws: Any) -> list[dict[str, Any]]:
    got = aws.sqs.receive_message(QueueUrl=aws.review_queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


@pytest.fixture
def scorer(built_artifact: Any) -> LocalScorer:
    return LocalScorer(built_artifact.model_dir)


@pytest.fixture
def seeded(aws: Any) -> Any:
    seed_profiles(feature_client(aws), event_time=time.time() - 3600)
    return aws


def test_ordinary_purchase_is_approved_audited_and_its_velocity_written_back(
    seeded: Any, scorer: LocalScorer
) -> None:
    result = service(seeded, scorer).decide(txn("t-1"))

    assert result.outcome is Outcome.APPROVE and not result.fallback and result.score is not None
    audit = json.loads(
        seeded.s3.get_object(Bucket=seeded.audit_bucket, Key="decisions/t-1.json")["Body"].read()
    )
    assert audit["decision"] == "approve"
    assert audit["model_version"] == scorer.model_version
    assert audit["model_inputs"]["amount_ratio_90d"] == pytest.approx(42.5 / 50.0)
    assert audit["model_inputs"]["merchant_risk_score"] == pytest.approx(0.02)
    assert audit["feature_statuses"]["card_profile"]["avg_amount_90d"] == "PRESENT"
    velocity = feature_client(seeded).get_features(CARD_VELOCITY.name, ["card-ok"])[0]
    assert velocity["txn_count_10m"].value == 1 and velocity["amount_sum_1h"].value == pytest.approx(42.5)
    assert review_messages(seeded) == []


def test_velocity_burst_on_a_new_card_at_risky_merchants_is_not_approved(
    seeded: Any, scorer: LocalScorer
) -> None:
    svc = service(seeded, scorer)
    start = datetime.now(UTC) - timedelta(minutes=4)
    results = [
        svc.decide(
            txn(
                f"b-{i}",
                card="card-new",
                merchant=f"m-{i}",
                amount=380.0 + i,
                at=start + timedelta(seconds=20 * i),
                country="NG",
            )
        )
        for i in range(8)
    ]
    normal = svc.decide(txn("n-1"))

    assert results[-1].outcome in (Outcome.BLOCK, Outcome.REVIEW)
    assert results[-1].score is not None and normal.score is not None
    assert results[-1].score > normal.score
    audit = seeded.s3.get_object(Bucket=seeded.audit_bucket, Key="decisions/b-7.json")["Body"].read()
    inputs = json.loads(audit)["model_inputs"]
    assert inputs["txn_count_10m"] == 8 and inputs["merchants_24h"] == 8 and inputs["foreign"] == 1.0


def test_review_decision_goes_to_the_review_queue_with_its_audit_key(
    seeded: Any, scorer: LocalScorer
) -> None:
    everything_reviewed = Thresholds(approve_below=0.0, block_at=1.0)
    result = service(seeded, scorer, thresholds=everything_reviewed).decide(txn("r-1"))

    assert result.outcome is Outcome.REVIEW and not result.fallback
    [message] = review_messages(seeded)
    assert message["transaction_id"] == "r-1" and message["inference_id"] == "r-1"
    assert message["audit_key"] == "decisions/r-1.json" and message["score"] == result.score


def test_retried_transaction_returns_the_recorded_decision_and_counts_once(
    seeded: Any, scorer: LocalScorer
) -> None:
    first = service(seeded, scorer).decide(txn("dup-1"))
    # Thresholds changed between attempts: the retry must still get the decision on record.
    second = service(seeded, scorer, thresholds=Thresholds(approve_below=0.0, block_at=0.0)).decide(
        txn("dup-1")
    )

    assert second.replayed and not first.replayed
    assert (second.outcome, second.score, second.reason) == (first.outcome, first.score, first.reason)
    versions = seeded.s3.list_object_versions(Bucket=seeded.audit_bucket, Prefix="decisions/dup-1.json")
    assert len(versions["Versions"]) == 1
    velocity = feature_client(seeded).get_features(CARD_VELOCITY.name, ["card-ok"])[0]
    assert velocity["txn_count_1h"].value == 1


def test_queue_writer_sends_a_record_the_feature_store_accepts(seeded: Any, scorer: LocalScorer) -> None:
    service(seeded, scorer, via_queue=True).decide(txn("q-1", amount=10.0))

    got = seeded.sqs.receive_message(QueueUrl=seeded.ingestion_queue_url)["Messages"]
    body = json.loads(got[0]["Body"])
    assert body["group"] == CARD_VELOCITY.name
    [record] = body["records"]
    checked = validate_record(
        Registry([CARD_VELOCITY]).get(CARD_VELOCITY.name), record, 0, time.time_ns() // 1_000_000, 300_000
    )
    assert isinstance(checked, ValidRecord)
    assert record["txn_count_10m"] == 1 and record["amount_sum_1h"] == 10.0
