"""The API handlers: 400s naming every problem, decisions, 503 when nothing can be recorded,
and reviewers' labels landing where model monitoring reads them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import fraud_service.handler as handler
import fraud_service.label_handler as label_handler
import pytest
from aws_lambda_powertools import Metrics
from fraud_service.decision import Thresholds
from fraud_service.local_scorer import LocalScorer
from fraud_service.settings import DecisionSettings, LabelSettings
from fraud_service.transaction import parse_transaction
from pydantic import ValidationError

from lambdas.common.errors import InputError
from lambdas.model_monitoring.ground_truth import read_label_lines
from tests.fraud_detection.world import feature_client, seed_profiles, service

GOOD = {
    "transaction_id": "api-1",
    "card_id": "card-ok",
    "merchant_id": "m-grocer",
    "amount": 25.0,
    "currency": "USD",
    "country": "US",
}


def body(**changes: Any) -> dict[str, Any]:
    data = {**GOOD, "event_time": datetime.now(UTC).isoformat(), **changes}
    return {"body": json.dumps({k: v for k, v in data.items() if v is not ...})}


def problems(response: dict[str, Any]) -> dict[str, str]:
    assert response["statusCode"] == 400
    return {e["field"]: e["reason"] for e in json.loads(response["body"])["errors"]}


@pytest.fixture
def sink() -> Metrics:
    return Metrics(namespace="FraudDetectionTest")


@pytest.fixture
def svc(aws: Any, built_artifact: Any) -> Any:
    seed_profiles(feature_client(aws), event_time=time.time() - 3600)
    return service(aws, LocalScorer(built_artifact.model_dir))


def test_malformed_transaction_gets_400_with_every_reason(svc: Any, sink: Metrics) -> None:
    event = body(amount="12.50", currency="usd", card_id=..., event_time="2026-01-01T10:00:00", colour="red")
    assert problems(handler.process(event, svc, sink)) == {
        "amount": "must be a JSON number",
        "currency": "String should match pattern '^[A-Z]{3}$'",
        "card_id": "is required",
        "event_time": "needs a UTC offset, e.g. 2026-01-31T12:00:00Z",
        "colour": "is not a transaction field",
    }


@pytest.mark.parametrize(
    ("event", "field", "reason"),
    [
        ({"body": "{not json"}, "(body)", "is not valid JSON"),
        ({"body": "[1, 2]"}, "(body)", "must be a JSON object, got list"),
        ({}, "(body)", "is not valid JSON"),
    ],
)
def test_unreadable_bodies_get_400(
    svc: Any, sink: Metrics, event: dict[str, Any], field: str, reason: str
) -> None:
    assert problems(handler.process(event, svc, sink))[field].startswith(reason)


@pytest.mark.parametrize(
    ("amount", "reason"),
    [(0, "greater than 0"), (-5, "greater than 0"), (2e6, "less than or equal"), (True, "JSON number")],
)
def test_amount_bounds(amount: Any, reason: str) -> None:
    with pytest.raises(InputError) as error:
        parse_transaction({**GOOD, "event_time": "2026-01-01T00:00:00Z", "amount": amount})
    assert reason in str(error.value)


def test_transaction_id_must_be_safe_for_keys() -> None:
    with pytest.raises(InputError, match="transaction_id"):
        parse_transaction({**GOOD, "event_time": "2026-01-01T00:00:00Z", "transaction_id": "../etc/passwd"})


def test_valid_transaction_gets_its_decision(svc: Any, sink: Metrics) -> None:
    response = handler.process(body(), svc, sink)
    assert response["statusCode"] == 200
    decision = json.loads(response["body"])
    assert decision["transaction_id"] == "api-1" and decision["decision"] in {"approve", "review", "block"}
    assert decision["model_version"].startswith("fraud-hgb-") and decision["replayed"] is False


def test_unrecordable_decision_is_503_never_an_answer(aws: Any, svc: Any, sink: Metrics) -> None:
    aws.s3.delete_bucket(Bucket=aws.audit_bucket)
    response = handler.process(body(), svc, sink)
    assert response["statusCode"] == 503
    assert "retry with the same transaction_id" in json.loads(response["body"])["message"]


def test_decision_settings_name_missing_and_bad_variables() -> None:
    with pytest.raises(InputError) as error:
        DecisionSettings.from_env({"ENDPOINT_NAME": "fraud", "REVIEW_QUEUE_URL": "http://x", "BLOCK_AT": "2"})
    fields = {p.field for p in error.value.problems}
    assert {"VELOCITY_STATE_TABLE", "AUDIT_BUCKET", "REVIEW_QUEUE_URL", "BLOCK_AT"} <= fields


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="approve_below"):
        Thresholds(approve_below=0.8, block_at=0.5)


@pytest.mark.parametrize(
    ("score", "amount", "outcome"),
    [
        (0.29, 10.0, "approve"),
        (0.3, 10.0, "review"),
        (0.89, 10.0, "review"),
        (0.9, 10.0, "block"),
        (0.1, 10_000.0, "review"),
    ],
)
def test_threshold_boundaries(score: float, amount: float, outcome: str) -> None:
    from fraud_service.decision import decide

    assert decide(score, amount, Thresholds()).outcome.value == outcome


# -- labels ---------------------------------------------------------------------------------

LABEL_SETTINGS = LabelSettings(labels_uri="s3://fraud-offline/ground-truth/fraud", audit_bucket="fraud-audit")
LABELLED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_reviewer_labels_are_written_where_model_monitoring_reads_them(
    aws: Any, svc: Any, sink: Metrics
) -> None:
    for tid in ("lab-1", "lab-2"):
        handler.process(body(transaction_id=tid), svc, sink)
    event = {
        "body": json.dumps(
            {
                "labels": [
                    {"transaction_id": "lab-1", "label": "fraud", "reviewer": "ana"},
                    {"transaction_id": "lab-2", "label": 0, "reviewer": "ben"},
                ]
            }
        )
    }

    response = label_handler.process(event, LABEL_SETTINGS, aws.s3, now=lambda: LABELLED_AT, sink=sink)

    assert response["statusCode"] == 200
    keys = [
        o["Key"]
        for o in aws.s3.list_objects_v2(Bucket="fraud-offline", Prefix="ground-truth/fraud/")["Contents"]
    ]
    [key] = keys
    assert key.startswith("ground-truth/fraud/2026/03/04/05/labels-") and key.endswith(".jsonl")
    lines = aws.s3.get_object(Bucket="fraud-offline", Key=key)["Body"].read().splitlines()
    assert read_label_lines(lines).by_id == {"lab-1": 1.0, "lab-2": 0.0}
    # A retried request rewrites the same file rather than adding a second copy.
    label_handler.process(event, LABEL_SETTINGS, aws.s3, now=lambda: LABELLED_AT, sink=sink)
    assert len(aws.s3.list_objects_v2(Bucket="fraud-offline", Prefix="ground-truth/fraud/")["Contents"]) == 1


def test_labels_for_unknown_transactions_or_bad_values_get_400(aws: Any, svc: Any, sink: Metrics) -> None:
    handler.process(body(transaction_id="lab-3"), svc, sink)
    event = {
        "body": json.dumps(
            {
                "labels": [
                    {"transaction_id": "lab-3", "label": "maybe", "reviewer": "ana"},
                    {"transaction_id": "nope", "label": 1, "reviewer": "ana"},
                    {"transaction_id": "lab-3", "label": 1},
                ]
            }
        )
    }
    assert problems(label_handler.process(event, LABEL_SETTINGS, aws.s3, sink=sink)) == {
        "labels[0].label": "must be 1/0, true/false or 'fraud'/'legit', got 'maybe'",
        "labels[2].reviewer": "must name the reviewer",
    }
    event = {"body": json.dumps({"labels": [{"transaction_id": "nope", "label": 1, "reviewer": "ana"}]})}
    assert problems(label_handler.process(event, LABEL_SETTINGS, aws.s3, sink=sink)) == {
        "labels[0].transaction_id": "no decision on record for nope"
    }
    assert "Contents" not in aws.s3.list_objects_v2(Bucket="fraud-offline", Prefix="ground-truth/")


def test_request_path_functions_import_neither_numpy_nor_scikit_learn() -> None:
    """The Lambda bundles carry Powertools and pydantic only; the model lives on the endpoint."""
    import subprocess
    import sys

    from tests.fraud_detection.conftest import EXAMPLE_DIR

    code = (
        "import sys; import fraud_service.handler, fraud_service.label_handler; "
        "print(sorted(m for m in ('numpy', 'sklearn', 'scipy', 'pyarrow', 'joblib') if m in sys.modules))"
    )
    repo = EXAMPLE_DIR.parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": f"{EXAMPLE_DIR}:{repo}", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]"


def test_label_function_needs_no_feature_store_packages() -> None:
    """Its bundle carries lambdas.common only (ProductFunction platform_packages=[])."""
    import subprocess
    import sys

    from tests.fraud_detection.conftest import EXAMPLE_DIR

    code = (
        "import sys; import fraud_service.label_handler; "
        "print(sorted(m for m in sys.modules if m.startswith('lambdas.') and not m.startswith('lambdas.common')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": f"{EXAMPLE_DIR}:{EXAMPLE_DIR.parents[1]}", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]"


def test_base64_encoded_body_is_decoded(svc: Any, sink: Metrics) -> None:
    import base64

    raw = body(transaction_id="b64-1")["body"]
    event = {"body": base64.b64encode(raw.encode()).decode(), "isBase64Encoded": True}
    assert json.loads(handler.process(event, svc, sink)["body"])["transaction_id"] == "b64-1"
    assert problems(handler.process({"body": "%%%", "isBase64Encoded": True}, svc, sink))[
        "(body)"
    ].startswith("is not base64-encoded")


def test_review_lost_to_a_queue_outage_is_delivered_by_the_retry(
    aws: Any, built_artifact: Any, sink: Metrics
) -> None:
    seed_profiles(feature_client(aws), event_time=time.time() - 3600)
    review_all = service(
        aws, LocalScorer(built_artifact.model_dir), thresholds=Thresholds(approve_below=0.0, block_at=1.0)
    )
    aws.sqs.delete_queue(QueueUrl=aws.review_queue_url)
    event = body(transaction_id="rq-1")

    first = handler.process(event, review_all, sink)
    aws.sqs.create_queue(QueueName="fraud-review")
    second = handler.process(event, review_all, sink)

    assert first["statusCode"] == 503
    assert second["statusCode"] == 200 and json.loads(second["body"])["replayed"] is True
    got = aws.sqs.receive_message(QueueUrl=aws.review_queue_url)["Messages"]
    assert [json.loads(m["Body"])["transaction_id"] for m in got] == ["rq-1"]


@pytest.mark.parametrize(
    ("offset_seconds", "reason"),
    [(-400, "s old; at most 300 s is accepted"), (400, "s in the future; at most 300 s of clock skew")],
)
def test_stale_or_future_dated_transactions_get_400(
    svc: Any, sink: Metrics, offset_seconds: int, reason: str
) -> None:
    """A backdated event time would escape the velocity windows, so it is refused."""
    from datetime import timedelta

    when = datetime.now(UTC) + timedelta(seconds=offset_seconds)
    assert reason in problems(handler.process(body(event_time=when.isoformat()), svc, sink))["event_time"]


def test_large_amount_rule_can_be_switched_off_from_the_environment() -> None:
    env = {
        "VELOCITY_STATE_TABLE": "state",
        "ENDPOINT_NAME": "fraud",
        "AUDIT_BUCKET": "audit",
        "REVIEW_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q",
    }
    assert DecisionSettings.from_env(env | {"REVIEW_AMOUNT_AT": "off"}).review_amount_at is None
    assert DecisionSettings.from_env(env | {"REVIEW_AMOUNT_AT": "2500"}).review_amount_at == 2500.0
