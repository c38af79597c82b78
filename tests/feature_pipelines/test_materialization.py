from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from lambdas.feature_pipelines.glue.materialize import MaterializationRun, latest_in_range, materialize
from lambdas.feature_pipelines.glue.online_writer import RateLimiter, WriteCounts, write_rows
from lambdas.feature_store import codec, online_item
from lambdas.feature_store.registry import FeatureGroup

pytestmark = pytest.mark.spark

GROUP = FeatureGroup.model_validate(
    {
        "name": "card_profile",
        "entity_key": "card_id",
        "owner_team": "fraud",
        "features": [{"name": "txn_count", "dtype": "int64"}, {"name": "amount_mean", "dtype": "float64"}],
    }
)
DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
OFFLINE_DDL = (
    "card_id string, event_time timestamp, written_at timestamp, schema_version bigint, "
    "txn_count bigint, amount_mean double, event_date string"
)
NOW_MS = online_item.to_epoch_ms(datetime(2024, 4, 1, tzinfo=UTC))


def ms(moment: datetime) -> int:
    return online_item.to_epoch_ms(moment)


def offline_rows(n: int, seed: int, entities: int = 30) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        event_time = DAY0 + timedelta(minutes=int(rng.integers(0, 5 * 24 * 60)))
        written_at = event_time + timedelta(minutes=int(rng.integers(1, 100)))
        rows.append(
            (
                f"c{int(rng.integers(0, entities))}",
                event_time,
                written_at,
                1,
                int(rng.integers(0, 50)),
                float(rng.random()),
                event_time.strftime("%Y-%m-%d"),
            )
        )
    # Rewrites of an existing (entity, event time) with a later written_at win ties.
    for row in rows[: n // 10]:
        rows.append((row[0], row[1], row[2] + timedelta(hours=1), 1, row[4] + 1000, row[5], row[6]))
    return rows


def reference_latest(rows: list[tuple], start: datetime, end: datetime) -> dict[str, tuple]:
    best: dict[str, tuple] = {}
    for row in rows:
        if not start <= row[1] < end:
            continue
        held = best.get(row[0])
        if held is None or (row[1], row[2]) > (held[1], held[2]):
            best[row[0]] = row
    return best


def test_selection_is_the_newest_row_per_entity_in_range(spark: Any) -> None:
    rows = offline_rows(800, seed=11)
    start, end = DAY0 + timedelta(days=1, hours=5), DAY0 + timedelta(days=3, hours=7)
    selected = latest_in_range(spark.createDataFrame(rows, OFFLINE_DDL), GROUP, ms(start), ms(end)).collect()
    expected = reference_latest(rows, start, end)
    got = {r["entity_id"]: r for r in selected}
    assert got.keys() == expected.keys()
    for entity, row in expected.items():
        assert got[entity]["event_time_ms"] == ms(row[1])
        assert got[entity]["txn_count"] == row[4]
        assert got[entity]["amount_mean"] == row[5]


def _create_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _stored(dynamodb: Any, table: str, entity: str) -> tuple[int, list[Any]]:
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": online_item.partition_key(GROUP.name, entity)}}
    )["Item"]
    return int(item["event_time"]["N"]), codec.decode_for(GROUP, item["f"]["S"])


@mock_aws
def test_writer_follows_the_feature_store_replacement_rule() -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    _create_table(dynamodb, "online")
    t = ms(DAY0)
    limiter = RateLimiter(1000.0)
    first = [
        {"entity_id": "a", "event_time_ms": t, "txn_count": 1, "amount_mean": 1.0},
        {"entity_id": "b", "event_time_ms": t, "txn_count": 2, "amount_mean": 2.0},
    ]
    args = {
        "group": GROUP,
        "table_name": "online",
        "dynamodb": dynamodb,
        "limiter": limiter,
        "now_ms": NOW_MS,
    }
    assert write_rows(first, **args) == WriteCounts(written=2)
    second = [
        {"entity_id": "a", "event_time_ms": t - 1, "txn_count": 9, "amount_mean": 9.0},  # older
        {"entity_id": "b", "event_time_ms": t, "txn_count": 9, "amount_mean": 9.0},  # same time
        {"entity_id": "c", "event_time_ms": t, "txn_count": "x", "amount_mean": 1.0},  # bad type
        {"entity_id": "d", "event_time_ms": t + 5, "txn_count": 4, "amount_mean": None},
    ]
    rejected: list[Any] = []
    counts = write_rows(second, **args, on_rejected=rejected.append)
    assert counts == WriteCounts(written=1, superseded=1, unchanged=1, rejected=1)
    assert [p.field for p in rejected[0].problems] == ["txn_count"]
    assert _stored(dynamodb, "online", "a") == (t, [1, 1.0])
    assert _stored(dynamodb, "online", "b") == (t, [2, 2.0])
    assert _stored(dynamodb, "online", "d") == (t + 5, [4, None])


def test_rate_limiter_never_exceeds_its_rate() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(50.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(500):
        limiter.acquire()
    # A burst of 50 is free; the other 450 need 450 / 50 = 9 s.
    assert now[0] == pytest.approx(9.0)
    assert max(waits) == pytest.approx(1 / 50)


def test_rate_limiter_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


def _run(endpoint: str, name: str, start: datetime, end: datetime) -> MaterializationRun:
    return MaterializationRun(
        group_json=GROUP.model_dump_json(),
        table_name=name,
        start_ms=ms(start),
        end_ms=ms(end),
        checkpoint_bucket=name,
        checkpoint_prefix="materialization",
        partitions=3,
        writes_per_second=10_000.0,
        region="us-east-1",
        endpoint_url=endpoint,
    )


def test_materialization_writes_resumes_and_records_counts(spark: Any, moto_endpoint: str) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint)
    _create_table(dynamodb, "mat-online")
    s3.create_bucket(Bucket="mat-online")
    rows = offline_rows(600, seed=12)
    offline = spark.createDataFrame(rows, OFFLINE_DDL)
    start, end = DAY0, DAY0 + timedelta(days=2)
    run = _run(moto_endpoint, "mat-online", start, end)
    expected = reference_latest(rows, start, end)

    first = materialize(offline, run)
    assert first == WriteCounts(written=len(expected))
    for entity, row in expected.items():
        assert _stored(dynamodb, "mat-online", entity) == (ms(row[1]), [row[4], row[5]])

    # A partition whose checkpoint is missing (the job died in it) is redone; the rows it
    # already wrote come back unchanged. Checkpointed partitions are skipped.
    markers = s3.list_objects_v2(Bucket="mat-online", Prefix=f"{run.run_prefix}/partition-")["Contents"]
    lost = markers[0]["Key"]
    lost_counts = WriteCounts.from_json(
        json.loads(s3.get_object(Bucket="mat-online", Key=lost)["Body"].read())
    )
    s3.delete_object(Bucket="mat-online", Key=lost)
    resumed = materialize(offline, run)
    assert resumed == WriteCounts(written=len(expected) - lost_counts.written, unchanged=lost_counts.written)
    summary = json.loads(s3.get_object(Bucket="mat-online", Key=run.summary_key)["Body"].read())
    assert len(summary["resumed_partitions"]) == len(markers) - 1
    assert summary["counts"] == resumed.to_json()


def test_materialization_of_an_empty_range_is_a_recorded_no_op(spark: Any, moto_endpoint: str) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint)
    _create_table(dynamodb, "mat-empty")
    s3.create_bucket(Bucket="mat-empty")
    offline = spark.createDataFrame(offline_rows(100, seed=13), OFFLINE_DDL)
    run = _run(moto_endpoint, "mat-empty", DAY0 + timedelta(days=30), DAY0 + timedelta(days=31))
    assert materialize(offline, run) == WriteCounts()
    summary = json.loads(s3.get_object(Bucket="mat-empty", Key=run.summary_key)["Body"].read())
    assert summary["counts"] == {"written": 0, "superseded": 0, "unchanged": 0, "rejected": 0}
    assert dynamodb.scan(TableName="mat-empty")["Count"] == 0
