from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lambdas.common.errors import InputError
from lambdas.feature_store import ingest_handler
from lambdas.feature_store.reads import Status

from .conftest import BUCKET, GLUE_DATABASE, TABLE, make_record, register, user_group

IDEMPOTENCY_TABLE = "features-idempotency"


@dataclass
class FakeContext:
    function_name: str = "feature-store-ingest"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:feature-store-ingest"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:ingest",
                "awsRegion": "eu-west-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


@pytest.fixture
def env(dynamodb: Any, s3: Any, glue: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("FEATURE_STORE_TABLE", TABLE)
    monkeypatch.setenv("FEATURE_STORE_OFFLINE_BUCKET", BUCKET)
    monkeypatch.setenv("FEATURE_STORE_IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
    monkeypatch.setenv("FEATURE_STORE_GLUE_DATABASE", GLUE_DATABASE)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    dynamodb.create_table(
        TableName=IDEMPOTENCY_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    register(glue, user_group())
    ingest_handler.runtime.cache_clear()
    yield dynamodb
    ingest_handler.runtime.cache_clear()


def recent(seconds_ago: int = 60) -> float:
    import time

    return time.time() - seconds_ago


def test_good_message_is_written_and_bad_message_is_reported_as_batch_failure(env: Any) -> None:
    good = json.dumps({"group": "user_activity", "records": [make_record("u1", recent())]})
    unknown_group = json.dumps({"group": "nope", "records": [make_record("u2", recent())]})
    not_json = "{{{"
    result = ingest_handler.handler(sqs_event(good, unknown_group, not_json), FakeContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    row = ingest_handler.runtime().client.get_features("user_activity", ["u1"], ["country"])[0]
    assert row.statuses == [Status.PRESENT]


def test_invalid_records_are_rejected_with_reasons_without_failing_the_message(env: Any) -> None:
    body = json.dumps(
        {
            "group": "user_activity",
            "records": [make_record("u1", recent()), make_record("u2", recent(), txn_count_1h="x")],
        }
    )
    assert ingest_handler.handler(sqs_event(body), FakeContext()) == {"batchItemFailures": []}
    summary = ingest_handler.ingest(
        ingest_handler.runtime().client, ingest_handler.parse_message(body)
    )  # direct call: the same content is now UNCHANGED, the bad record still rejected
    assert summary["outcomes"] == ["unchanged", "rejected"]
    assert summary["rejected"][0]["problems"] == ["txn_count_1h: expected int64, got str"]


def test_redelivered_message_is_not_processed_twice(env: Any) -> None:
    body = json.dumps({"group": "user_activity", "records": [make_record("u1", recent())]})
    calls: list[str] = []
    client = ingest_handler.runtime().client
    original = client.put_records

    def counting(group: str, records: Any) -> Any:
        calls.append(group)
        return original(group, records)

    client.put_records = counting  # type: ignore[method-assign]
    ingest_handler.handler(sqs_event(body), FakeContext())
    ingest_handler.handler(sqs_event(body), FakeContext(aws_request_id="req-2"))
    assert calls == ["user_activity"]
    assert env.scan(TableName=IDEMPOTENCY_TABLE)["Count"] == 1


def test_message_shape_errors_name_the_field() -> None:
    with pytest.raises(InputError, match="records"):
        ingest_handler.parse_message(json.dumps({"group": "g", "records": []}))
    with pytest.raises(InputError, match="group"):
        ingest_handler.parse_message(json.dumps({"records": [{}]}))


def test_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdas.feature_store.settings import ingest_settings

    with pytest.raises(InputError, match="FEATURE_STORE_IDEMPOTENCY_TABLE"):
        ingest_settings(
            {
                "FEATURE_STORE_TABLE": "t",
                "FEATURE_STORE_OFFLINE_BUCKET": "b",
                "FEATURE_STORE_GLUE_DATABASE": "d",
            }
        )
