from __future__ import annotations

import io
import math
from typing import Any

import pyarrow.parquet as pq
import pytest

from lambdas.common.errors import InputError
from lambdas.feature_store.client import FeatureStoreClient
from lambdas.feature_store.online_item import WriteOutcome
from lambdas.feature_store.reads import Status

from .conftest import BUCKET, NOW_MS, TABLE, make_record

ISO_NOW = "2026-01-01T00:00:00Z"
MINUTE = 60


def test_written_record_reads_back_present_with_values_in_request_order(client: FeatureStoreClient) -> None:
    result = client.put_records("user_activity", [make_record("u1", NOW_MS / 1000 - MINUTE)])
    assert [r.outcome for r in result.results] == [WriteOutcome.WRITTEN]

    response = client.get_features("user_activity", ["u1"], ["score", "country"])
    row = response[0]
    assert row.names == ("score", "country")
    assert row.values == [0.25, "NL"]
    assert row.statuses == [Status.PRESENT, Status.PRESENT]
    assert response.round_trips == 1


def test_values_older_than_max_age_are_stale_and_still_returned(client: FeatureStoreClient) -> None:
    # 2 hours old: past txn_count_1h (1 h) and score (10 min), within avg_amount_1d (1 day).
    client.put_records("user_activity", [make_record("u1", NOW_MS / 1000 - 7200)])
    row = client.get_features("user_activity", ["u1"])[0]
    assert row["txn_count_1h"].status is Status.STALE
    assert row["txn_count_1h"].value == 3
    assert row["score"].status is Status.STALE
    assert row["avg_amount_1d"].status is Status.PRESENT
    # No max age: never stale.
    assert row["country"].status is Status.PRESENT


def test_unknown_entity_and_null_value_are_missing_and_duplicates_repeat(client: FeatureStoreClient) -> None:
    client.put_records("user_activity", [make_record("u1", ISO_NOW, country=None)])
    response = client.get_features("user_activity", ["nobody", "u1", "nobody", "u1"], ["country", "score"])
    assert [r.entity_id for r in response] == ["nobody", "u1", "nobody", "u1"]
    assert response[0].statuses == [Status.MISSING, Status.MISSING]
    assert response[1]["country"].status is Status.MISSING
    assert response[1]["score"].status is Status.PRESENT
    assert response[3].values == response[1].values


def test_nan_round_trips_where_allowed(client: FeatureStoreClient) -> None:
    client.put_records("user_activity", [make_record("u1", ISO_NOW, score=math.nan)])
    value = client.get_features("user_activity", ["u1"], ["score"])[0]["score"]
    assert math.isnan(value.value)
    assert value.status is Status.PRESENT


def test_250_entities_take_one_batch_get_per_100_ids(client: FeatureStoreClient) -> None:
    ids = [f"u{i}" for i in range(250)]
    client.put_records("user_activity", [make_record(i, ISO_NOW) for i in ids[::2]])
    response = client.get_features("user_activity", ids)
    assert response.round_trips == 3
    assert [r.entity_id for r in response] == ids
    assert all(r.statuses[0] is Status.PRESENT for r in response.rows[::2])
    assert all(r.statuses[0] is Status.MISSING for r in response.rows[1::2])


def test_older_event_is_superseded_and_equal_event_is_unchanged(client: FeatureStoreClient) -> None:
    client.put_records("user_activity", [make_record("u1", NOW_MS / 1000 - 10, txn_count_1h=10)])
    late = client.put_records("user_activity", [make_record("u1", NOW_MS / 1000 - 20, txn_count_1h=20)])
    same = client.put_records("user_activity", [make_record("u1", NOW_MS / 1000 - 10, txn_count_1h=30)])
    newer = client.put_records("user_activity", [make_record("u1", NOW_MS / 1000 - 5, txn_count_1h=40)])
    assert late.results[0].outcome is WriteOutcome.SUPERSEDED
    assert same.results[0].outcome is WriteOutcome.UNCHANGED
    assert newer.results[0].outcome is WriteOutcome.WRITTEN
    row = client.get_features("user_activity", ["u1"], ["txn_count_1h"])[0]
    assert row.values == [40]
    assert row.event_time_ms == NOW_MS - 5000


def test_bad_records_are_rejected_with_reasons_and_valid_ones_written(client: FeatureStoreClient) -> None:
    records: list[Any] = [
        make_record("ok1", ISO_NOW),
        {k: v for k, v in make_record("x", ISO_NOW).items() if k != "user_id"},
        make_record("bad_dtype", ISO_NOW, txn_count_1h="three"),
        make_record("unknown", ISO_NOW, colour="red"),
        make_record("nan", ISO_NOW, avg_amount_1d=math.nan),
        make_record("future", NOW_MS / 1000 + 86400),
        make_record("no_time", None),
        make_record("big", ISO_NOW, country="x" * 500_000),
        make_record("ok2", ISO_NOW),
    ]
    response = client.put_records("user_activity", records)
    outcomes = [r.outcome for r in response.results]
    assert outcomes == [WriteOutcome.WRITTEN] + [WriteOutcome.REJECTED] * 7 + [WriteOutcome.WRITTEN]
    fields = [[p.field for p in r.problems] for r in response.results[1:8]]
    assert fields == [
        ["user_id"],
        ["txn_count_1h"],
        ["colour"],
        ["avg_amount_1d"],
        ["event_time"],
        ["event_time"],
        ["record"],
    ]
    assert "future" in response.results[5].problems[0].reason
    assert "400" in str(response.results[7].problems[0].reason)
    rows = client.get_features("user_activity", ["ok1", "ok2", "bad_dtype"], ["country"])
    assert [r.statuses[0] for r in rows] == [Status.PRESENT, Status.PRESENT, Status.MISSING]


def test_offline_files_are_hive_partitioned_and_a_retry_overwrites(
    client: FeatureStoreClient, s3: Any
) -> None:
    batch = [
        make_record("u1", "2025-12-31T23:00:00Z"),
        make_record("u2", "2025-12-30T10:00:00Z", score=None),
        make_record("bad", ISO_NOW, txn_count_1h=1.5),
    ]
    first = client.put_records("user_activity", batch)
    retry = client.put_records("user_activity", batch)
    assert first.offline_keys == retry.offline_keys
    assert [r.outcome for r in retry.results[:2]] == [WriteOutcome.UNCHANGED] * 2
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert len(keys) == 2
    assert keys[0].startswith("offline/feature_group=user_activity/event_date=2025-12-30/part-")
    assert keys[1].startswith("offline/feature_group=user_activity/event_date=2025-12-31/part-")
    body = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names[:4] == ["user_id", "event_time", "written_at", "schema_version"]
    assert table.column("user_id").to_pylist() == ["u2"]
    assert table.column("score").to_pylist() == [None]


def test_unknown_group_and_unknown_feature_raise_clear_errors(client: FeatureStoreClient) -> None:
    with pytest.raises(InputError, match="unknown feature group 'nope'"):
        client.get_features("nope", ["u1"])
    with pytest.raises(InputError, match=r"features\.colour"):
        client.get_features("user_activity", ["u1"], ["colour"])
    with pytest.raises(InputError, match="unknown feature group"):
        client.put_records("nope", [])


def test_item_written_under_another_schema_is_unavailable_not_missing(
    dynamodb: Any, s3: Any, clock: Any
) -> None:
    from .conftest import make_client, user_group

    old = make_client(dynamodb, s3, clock, user_group())
    old.put_records("user_activity", [make_record("u1", ISO_NOW)])
    new = make_client(dynamodb, s3, clock, user_group(schema_version=2))
    row = new.get_features("user_activity", ["u1"])[0]
    assert set(row.statuses) == {Status.UNAVAILABLE}
    assert row.reason is not None and "fingerprint" in row.reason


def test_online_item_carries_fingerprint_times_and_ttl(client: FeatureStoreClient, dynamodb: Any) -> None:
    client.put_records("user_activity", [make_record("u1", ISO_NOW)])
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "user_activity#u1"}})["Item"]
    group = client.registry.get("user_activity")
    assert item["fp"]["S"] == group.fingerprint
    assert int(item["event_time"]["N"]) == NOW_MS
    assert int(item["written_at"]["N"]) == NOW_MS
    assert int(item["ttl"]["N"]) == NOW_MS // 1000 + group.online_ttl_seconds
    assert item["f"]["S"].startswith("[1,3,12.5,")


def test_reads_and_writes_publish_emf_metrics_per_group(
    dynamodb: Any, s3: Any, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from lambdas.feature_store.client import EmfMetrics

    from .conftest import make_client

    client = make_client(dynamodb, s3, clock, metrics=EmfMetrics())
    client.put_records("user_activity", [make_record("u1", NOW_MS / 1000 - 7200), make_record("u2", None)])
    client.get_features("user_activity", ["u1", "nobody"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    write, read = records
    assert write["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "MLPlatform/FeatureStore"
    assert write["FeatureGroup"] == "user_activity"
    assert write["RecordsWritten"] == [1.0] and write["RecordsRejected"] == [1.0]
    # u1 is 2 h old: 2 of its 5 features are past max age; "nobody" is 5 MISSING values.
    assert read["ValuesRead"] == [10.0]
    assert read["StaleValues"] == [2.0]
    assert read["MissingValues"] == [5.0]
    assert read["ReadRoundTrips"] == [1.0]


def test_client_from_environment_names_missing_variables_and_reads_the_glue_registry(
    dynamodb: Any, glue: Any
) -> None:
    from .conftest import GLUE_DATABASE, register, user_group

    with pytest.raises(InputError, match="FEATURE_STORE_GLUE_DATABASE"):
        FeatureStoreClient.from_environment({"FEATURE_STORE_TABLE": TABLE})
    register(glue, user_group())
    client = FeatureStoreClient.from_environment(
        {"FEATURE_STORE_TABLE": TABLE, "FEATURE_STORE_GLUE_DATABASE": GLUE_DATABASE}, dynamodb=dynamodb
    )
    assert client.registry.get("user_activity") == user_group()
    assert client.get_features("user_activity", ["u1"])[0].statuses[0] is Status.MISSING
