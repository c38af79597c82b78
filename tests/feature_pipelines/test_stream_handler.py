from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError
from moto import mock_aws

from lambdas.common.errors import InputError
from lambdas.feature_pipelines import stream_handler
from lambdas.feature_pipelines.settings import consumer_settings
from lambdas.feature_pipelines.state_store import WindowStateStore
from lambdas.feature_pipelines.stream_consumer import KinesisRecord, StreamConsumer
from lambdas.feature_pipelines.stream_events import parse_event
from lambdas.feature_pipelines.stream_handler import build_consumer, consume_event
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec
from lambdas.feature_pipelines.window_state import EntityWindowState
from lambdas.feature_pipelines.windows import apply_events
from lambdas.feature_store import codec, online_item
from lambdas.feature_store.offline_layout import glue_table_input
from lambdas.feature_store.registry import FeatureGroup

GROUP = FeatureGroup.model_validate(
    {
        "name": "card_stream",
        "entity_key": "card_id",
        "owner_team": "fraud",
        "features": [
            {"name": "txn_count_1h", "dtype": "int64"},
            {"name": "amount_sum_1h", "dtype": "float64"},
            {"name": "merchants_24h", "dtype": "int64"},
        ],
    }
)
SPEC_JSON = {
    "feature_group": "card_stream",
    "entity_key": "card",
    "bucket_seconds": 60,
    "allowed_lateness_seconds": 300,
    "features": [
        {"name": "txn_count_1h", "aggregation": "count", "window_seconds": 3600},
        {"name": "amount_sum_1h", "aggregation": "sum", "field": "amount", "window_seconds": 3600},
        {
            "name": "merchants_24h",
            "aggregation": "distinct_count",
            "field": "merchant",
            "window_seconds": 86400,
        },
    ],
}
T0 = 1_709_251_200  # 2024-03-01T00:00:00Z
ENV = {
    "FEATURE_PIPELINE_SPEC": json.dumps(SPEC_JSON),
    "WINDOW_STATE_TABLE": "window-state",
    "FEATURE_STORE_TABLE": "online",
    "FEATURE_STORE_OFFLINE_BUCKET": "offline-store",
    "FEATURE_STORE_GLUE_DATABASE": "feature_store",
}


@dataclass
class Aws:
    dynamodb: Any
    sqs: Any
    s3: Any
    glue: Any
    queue_url: str

    def consumer(self) -> StreamConsumer:
        settings = consumer_settings({**ENV, "FAILURE_QUEUE_URL": self.queue_url})
        return build_consumer(settings, self.dynamodb, self.sqs, self.s3, self.glue)

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        return [json.loads(m["Body"]) for m in messages]

    def online(self, entity: str) -> tuple[int, list[Any]]:
        key = {"pk": {"S": online_item.partition_key(GROUP.name, entity)}}
        item = self.dynamodb.get_item(TableName="online", Key=key)["Item"]
        return int(item["event_time"]["N"]), codec.decode_for(GROUP, item["f"]["S"])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        for table in ("window-state", "online"):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="offline-store")
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": "feature_store"})
        glue.create_table(
            DatabaseName="feature_store", TableInput=glue_table_input(GROUP, "offline-store", "offline")
        )
        sqs = boto3.client("sqs")
        yield Aws(dynamodb, sqs, s3, glue, sqs.create_queue(QueueName="failures")["QueueUrl"])


def kinesis_record(
    seq: int, payload: Any, arrival: float | None = None, raw: bytes | None = None
) -> dict[str, Any]:
    data = raw if raw is not None else json.dumps(payload).encode()
    card = payload.get("card", "x") if isinstance(payload, dict) else "x"
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": str(card),
            "sequenceNumber": f"{seq:056d}",
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": arrival if arrival is not None else T0 + 86_400.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{seq:056d}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/consumer",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/transactions",
    }


def txn(event_id: str, card: str, seconds: int, amount: float, merchant: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "card": card,
        "event_time": T0 + seconds,
        "amount": amount,
        "merchant": merchant,
    }


BATCH = [
    txn("e1", "c1", 100, 10.0, "m1"),
    txn("e2", "c1", 200, 5.0, "m2"),
    txn("e3", "c2", 150, 7.5, "m1"),
    txn("e4", "c1", 160, 1.0, "m1"),  # out of order, within lateness
]


def event_of(payloads: list[Any]) -> dict[str, Any]:
    return {"Records": [kinesis_record(i + 1, p) for i, p in enumerate(payloads)]}


def test_batch_writes_windowed_features_online_and_offline(aws: Aws) -> None:
    response = consume_event(event_of(BATCH), None, aws.consumer())  # type: ignore[arg-type]
    assert response == {"batchItemFailures": []}
    assert aws.online("c1") == ((T0 + 200) * 1000, [3, 16.0, 2])
    assert aws.online("c2") == ((T0 + 150) * 1000, [1, 7.5, 1])
    offline = aws.s3.list_objects_v2(Bucket="offline-store")["Contents"]
    assert all("feature_group=card_stream/event_date=2024-03-01/" in o["Key"] for o in offline)


def test_redelivered_batch_counts_nothing_twice(aws: Aws) -> None:
    consumer = aws.consumer()
    consume_event(event_of(BATCH), None, consumer)  # type: ignore[arg-type]
    report = consumer.consume([KinesisRecord.from_event(r) for r in event_of(BATCH)["Records"]])
    assert report.outcomes["duplicate"] == 4 and report.outcomes["accepted"] == 0
    assert report.feature_outcomes == {"unchanged": 2}
    assert aws.online("c1") == ((T0 + 200) * 1000, [3, 16.0, 2])


def test_malformed_and_late_records_go_to_the_failure_queue_and_do_not_block(aws: Aws) -> None:
    records = [
        kinesis_record(1, {"card": "c1"}, raw=b"\xff not json"),
        kinesis_record(2, {"card": "c1", "event_id": "e9", "event_time": "soon"}),
        kinesis_record(3, txn("e1", "c1", 1000, 1.0, "m1")),
        kinesis_record(4, txn("e2", "c1", 100, 1.0, "m1")),  # 900 s behind: beyond 300 s lateness
    ]
    response = consume_event({"Records": records}, None, aws.consumer())  # type: ignore[arg-type]
    assert response == {"batchItemFailures": []}
    letters = sorted(aws.dead_letters(), key=lambda m: m["sequence_number"])
    assert [m["sequence_number"] for m in letters] == [f"{n:056d}" for n in (1, 2, 4)]
    assert letters[0]["reason"].startswith("malformed: record data is not base64-encoded JSON")
    assert any("event_time" in p for p in letters[1]["problems"])
    assert letters[2]["reason"].startswith("late:")
    assert aws.online("c1") == ((T0 + 1000) * 1000, [1, 1.0, 1])


class RacingStore(WindowStateStore):
    """Lets another writer save the entity's state between this writer's load and save."""

    def __init__(self, rival_events: list[dict[str, Any]], *args: Any) -> None:
        super().__init__(*args)
        self.rival_events = rival_events
        self.raced = False

    def save(self, entity: str, state: EntityWindowState, loaded_version: int) -> bool:
        if not self.raced:
            self.raced = True
            spec = self._spec
            rival = self.load(entity)
            apply_events(rival.state, [parse_event(p, spec) for p in self.rival_events], spec)
            assert super().save(entity, rival.state, rival.version)
        return super().save(entity, state, loaded_version)


def test_concurrent_state_update_is_reloaded_not_overwritten(aws: Aws) -> None:
    consumer = aws.consumer()
    consumer.states = RacingStore(
        [txn("r1", "c1", 50, 100.0, "m9")], aws.dynamodb, "window-state", consumer.spec
    )
    report = consumer.consume([KinesisRecord.from_event(r) for r in event_of(BATCH[:2])["Records"]])
    assert report.state_conflicts == 1 and not report.failed
    assert aws.online("c1") == ((T0 + 200) * 1000, [3, 115.0, 3])


def test_feature_store_outage_retries_the_records_and_recovers_from_saved_state(aws: Aws) -> None:
    consumer = aws.consumer()
    for obj in aws.s3.list_objects_v2(Bucket="offline-store").get("Contents", []):
        aws.s3.delete_object(Bucket="offline-store", Key=obj["Key"])
    aws.s3.delete_bucket(Bucket="offline-store")
    report = consumer.consume([KinesisRecord.from_event(r) for r in event_of(BATCH[:3])["Records"]])
    assert report.failed == {f"{n:056d}" for n in (1, 2, 3)}
    # Every record failing fails the invocation, so Lambda retries (and bisects) the batch.
    with pytest.raises(BatchProcessingError):
        consume_event(event_of(BATCH[:3]), None, consumer)  # type: ignore[arg-type]
    aws.s3.create_bucket(Bucket="offline-store")
    # Lambda redelivers from the first failed record: all duplicates now, yet the features land.
    assert consume_event(event_of(BATCH[:3]), None, consumer) == {"batchItemFailures": []}  # type: ignore[arg-type]
    assert aws.online("c1") == ((T0 + 200) * 1000, [2, 15.0, 2])


def test_feature_group_that_cannot_hold_the_features_fails_at_start(aws: Aws) -> None:
    bad = {
        **SPEC_JSON,
        "features": [
            {"name": "txn_count_1h", "aggregation": "mean", "field": "amount", "window_seconds": 3600}
        ],
    }
    settings = consumer_settings(
        {**ENV, "FAILURE_QUEUE_URL": aws.queue_url, "FEATURE_PIPELINE_SPEC": json.dumps(bad)}
    )
    with pytest.raises(InputError, match="txn_count_1h: mean needs dtype float64"):
        build_consumer(settings, aws.dynamodb, aws.sqs, aws.s3, aws.glue)


def test_missing_environment_names_every_variable() -> None:
    with pytest.raises(InputError) as info:
        consumer_settings({"WINDOW_STATE_TABLE": "t"})
    assert {p.field for p in info.value.problems} == {
        "FEATURE_PIPELINE_SPEC",
        "FAILURE_QUEUE_URL",
        "FEATURE_STORE_TABLE",
        "FEATURE_STORE_OFFLINE_BUCKET",
        "FEATURE_STORE_GLUE_DATABASE",
    }


def test_lambda_entry_point_returns_partial_failure_response(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        **ENV,
        "FAILURE_QUEUE_URL": aws.queue_url,
        "POWERTOOLS_METRICS_NAMESPACE": "t",
    }.items():
        monkeypatch.setenv(name, value)
    stream_handler._consumer.cache_clear()

    @dataclass
    class Context:
        function_name: str = "consumer"
        memory_limit_in_mb: int = 512
        invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:consumer"
        aws_request_id: str = "req-1"

    try:
        assert stream_handler.handler(event_of(BATCH), Context()) == {"batchItemFailures": []}
    finally:
        stream_handler._consumer.cache_clear()
    assert aws.online("c2") == ((T0 + 150) * 1000, [1, 7.5, 1])


def test_spec_module_parses_the_example_spec() -> None:
    assert StreamingFeatureSpec.parse(SPEC_JSON).max_window_buckets == 1440


class ThrottledStore(WindowStateStore):
    """DynamoDB throttles one entity's state beyond botocore's retries."""

    def load(self, entity: str) -> Any:
        if entity == "c2":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetItem")
        return super().load(entity)


def test_throttled_entity_retries_its_records_while_others_complete(aws: Aws) -> None:
    consumer = aws.consumer()
    consumer.states = ThrottledStore(aws.dynamodb, "window-state", consumer.spec)
    response = consume_event(event_of(BATCH), None, consumer)  # type: ignore[arg-type]
    assert response == {"batchItemFailures": [{"itemIdentifier": f"{3:056d}"}]}
    assert aws.online("c1") == ((T0 + 200) * 1000, [3, 16.0, 2])
