"""Outages never approve: the feature store, the window state or the model failing sends the
transaction to manual review, with the cause in the audit log and the review message."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from fraud_service.decision import Outcome, Thresholds, decide
from fraud_service.local_scorer import LocalScorer
from fraud_service.scoring import EndpointScorer, ScoringUnavailable
from hypothesis import given
from hypothesis import strategies as st

from tests.fraud_detection.test_decision_path import review_messages, txn
from tests.fraud_detection.world import feature_client, seed_profiles, service


@pytest.fixture
def scorer(built_artifact: Any) -> LocalScorer:
    return LocalScorer(built_artifact.model_dir)


@pytest.fixture
def seeded(aws: Any) -> Any:
    seed_profiles(feature_client(aws), event_time=time.time() - 3600)
    return aws


def audit(aws: Any, tid: str) -> dict[str, Any]:
    return dict(
        json.loads(aws.s3.get_object(Bucket=aws.audit_bucket, Key=f"decisions/{tid}.json")["Body"].read())
    )


def assert_fallback_review(aws: Any, result: Any, cause: str) -> None:
    assert result.outcome is Outcome.REVIEW and result.fallback and result.score is None
    assert cause in result.reason and "manual review" in result.reason
    record = audit(aws, result.transaction_id)
    assert record["fallback"] is True and record["decision"] == "review" and cause in record["reason"]
    [message] = review_messages(aws)
    assert message["transaction_id"] == result.transaction_id and cause in message["reason"]


def test_missing_online_table_falls_back_to_review(seeded: Any, scorer: LocalScorer) -> None:
    seeded.dynamodb.delete_table(TableName=seeded.online_table)
    result = service(seeded, scorer).decide(txn("o-1"))
    assert_fallback_review(seeded, result, "feature store unavailable (ResourceNotFoundException)")


class ThrottledReads:
    """DynamoDB whose BatchGetItem is always throttled; everything else works."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def batch_get_item(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "BatchGetItem")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_throttled_feature_reads_past_the_deadline_fall_back_to_review(
    seeded: Any, scorer: LocalScorer
) -> None:
    clock = iter(range(0, 10_000))
    client = feature_client(
        seeded,
        dynamodb=ThrottledReads(seeded.dynamodb),
        monotonic=lambda: next(clock) * 0.03,
        sleep=lambda _: None,
    )
    result = service(seeded, scorer, client=client).decide(txn("th-1"))
    assert_fallback_review(seeded, result, "feature store unavailable (card_profile: unavailable)")


class TimingOutRuntime:
    def invoke_endpoint(self, **_: Any) -> Any:
        raise ReadTimeoutError(endpoint_url="https://runtime.sagemaker.us-east-1.amazonaws.com")


class FailingRuntime:
    def invoke_endpoint(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ModelError"}}, "InvokeEndpoint")


def test_endpoint_timeout_falls_back_to_review(seeded: Any) -> None:
    result = service(seeded, EndpointScorer(TimingOutRuntime(), "fraud")).decide(txn("to-1"))
    assert_fallback_review(seeded, result, "model unavailable (endpoint fraud: ReadTimeoutError)")


def test_endpoint_model_error_falls_back_to_review(seeded: Any) -> None:
    result = service(seeded, EndpointScorer(FailingRuntime(), "fraud")).decide(txn("me-1"))
    assert_fallback_review(seeded, result, "model unavailable (endpoint fraud: ModelError)")


def test_missing_velocity_state_table_falls_back_to_review(seeded: Any, scorer: LocalScorer) -> None:
    seeded.dynamodb.delete_table(TableName=seeded.state_table)
    result = service(seeded, scorer).decide(txn("v-1"))
    assert_fallback_review(seeded, result, "velocity windows unavailable (ResourceNotFoundException)")


def test_failed_velocity_write_back_is_audited_but_does_not_change_the_decision(
    seeded: Any, scorer: LocalScorer
) -> None:
    seeded.sqs.delete_queue(QueueUrl=seeded.ingestion_queue_url)
    result = service(seeded, scorer, via_queue=True).decide(txn("w-1"))
    assert result.outcome is Outcome.APPROVE and not result.fallback
    assert audit(seeded, "w-1")["velocity_written"].startswith("not written")


class Response:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def read(self) -> bytes:
        return self.body


class GarbageRuntime:
    def invoke_endpoint(self, **_: Any) -> Any:
        return {"Body": Response(b'{"scores": [1.7], "model_version": "x"}')}


def test_out_of_range_endpoint_score_is_unavailable_not_a_decision() -> None:
    with pytest.raises(ScoringUnavailable, match="outside"):
        EndpointScorer(GarbageRuntime(), "fraud").score("t", {"amount": 1.0})


@given(
    score=st.one_of(st.none(), st.floats(0, 1)),
    amount=st.floats(0.01, 1e6),
    cause=st.sampled_from(["", "feature store unavailable", "model unavailable"]),
)
def test_no_score_or_an_outage_is_never_approved(score: float | None, amount: float, cause: str) -> None:
    decision = decide(score, amount, Thresholds(), unavailable=cause)
    if score is None or cause:
        assert decision.outcome is Outcome.REVIEW and decision.fallback
    else:
        assert not decision.fallback
