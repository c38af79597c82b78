from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambdas.common.errors import InputError
from lambdas.feature_store import athena_handler
from lambdas.feature_store.consistency import DifferenceKind, check_consistency, check_items, training_schema
from lambdas.feature_store.registry import Dtype, Feature, Registry

from .conftest import register, user_group
from .test_ingest_handler import FakeContext


@pytest.fixture
def athena_env(glue: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FEATURE_STORE_ATHENA_WORKGROUP", "primary")
    monkeypatch.setenv("FEATURE_STORE_ATHENA_OUTPUT", "s3://results/training-sets/")
    monkeypatch.setenv("FEATURE_STORE_GLUE_DATABASE", "feature_store")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    register(glue, user_group())
    athena_handler._settings.cache_clear()
    yield
    athena_handler._settings.cache_clear()


def test_athena_runner_starts_the_generated_query_and_returns_its_output(athena_env: None) -> None:
    event = {
        "entity_source": '"ml"."labels"',
        "timestamp_column": "ts",
        "requests": [{"group": "user_activity", "features": ["txn_count_1h"]}],
        "time_range": ["2026-01-01", "2026-01-31"],
    }
    result = athena_handler.handler(event, FakeContext())
    assert result["state"] == "SUCCEEDED"
    assert result["output_location"].startswith("s3://results/training-sets/")
    execution = boto3.client("athena", region_name="eu-west-1").get_query_execution(
        QueryExecutionId=result["query_execution_id"]
    )["QueryExecution"]
    assert 'JOIN "feature_store"."user_activity" f' in execution["Query"]
    again = athena_handler.handler({"query_execution_id": result["query_execution_id"]}, FakeContext())
    assert again["state"] == "SUCCEEDED"


def test_athena_runner_rejects_unknown_groups_and_malformed_events(athena_env: None) -> None:
    with pytest.raises(InputError, match="unknown feature group 'ghost'"):
        athena_handler.handler(
            {"entity_source": "t", "timestamp_column": "ts", "requests": [{"group": "ghost"}]}, FakeContext()
        )
    with pytest.raises(InputError, match="requests"):
        athena_handler.parse_event({"entity_source": "t", "timestamp_column": "ts", "requests": []})


TRAINING_SET_URI = "s3://artifacts-bucket/retraining/fraud/20260201T000000/training-set/"


def test_output_uri_unloads_the_point_in_time_select_as_parquet_there(athena_env: None) -> None:
    event = {
        "entity_source": '"ml"."labels"',
        "timestamp_column": "ts",
        "requests": [{"group": "user_activity", "features": ["txn_count_1h"]}],
        "output_uri": TRAINING_SET_URI,
    }
    result = athena_handler.handler(event, FakeContext())
    assert result["state"] == "SUCCEEDED"
    assert result["output_location"] == TRAINING_SET_URI
    query = boto3.client("athena", region_name="eu-west-1").get_query_execution(
        QueryExecutionId=result["query_execution_id"]
    )["QueryExecution"]["Query"]
    select = athena_handler.build_sql(
        athena_handler.StartEvent.model_validate(event),
        athena_handler.GlueRegistry(boto3.client("glue", region_name="eu-west-1"), "feature_store"),
        "feature_store",
    )
    assert query == f"UNLOAD (\n{select}\n) TO '{TRAINING_SET_URI}' WITH (format = 'PARQUET')"
    assert select.startswith("WITH k0 AS") and "txn_count_1h" in select
    # A poll knows the execution only by id: the target comes back from the statement itself.
    again = athena_handler.handler({"query_execution_id": result["query_execution_id"]}, FakeContext())
    assert again["output_location"] == TRAINING_SET_URI


@pytest.mark.parametrize(
    "uri",
    [
        "https://artifacts-bucket/retraining/training-set/",
        "s3://artifacts-bucket/retraining/training-set",  # an object, not a prefix
        "s3://artifacts-bucket/",  # the bucket root is never empty for long
        "s3://artifacts-bucket/x' WITH (format = 'JSON') --/",
    ],
)
def test_output_uri_that_is_not_an_s3_prefix_is_refused_naming_the_field(athena_env: None, uri: str) -> None:
    event = {
        "entity_source": "t",
        "timestamp_column": "ts",
        "requests": [{"group": "user_activity"}],
        "output_uri": uri,
    }
    with pytest.raises(InputError) as err:
        athena_handler.handler(event, FakeContext())
    assert [p.field for p in err.value.problems] == ["output_uri"]


def test_unload_target_is_read_only_from_unload_statements() -> None:
    assert (
        athena_handler.unload_target("SELECT * FROM (SELECT 1) TO 's3://b/p/' WITH (format = 'PARQUET')")
        is None
    )
    assert (
        athena_handler.unload_target(athena_handler.unload_sql("SELECT 1", "s3://bkt/a/b/"))
        == "s3://bkt/a/b/"
    )


def test_poll_loop_stops_when_the_time_budget_runs_out() -> None:
    class RunningAthena:
        calls = 0

        def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
            self.calls += 1
            return {"QueryExecution": {"Status": {"State": "RUNNING"}, "ResultConfiguration": {}}}

    remaining = iter([60_000, 30_000, 6_000])
    athena = RunningAthena()
    result = athena_handler.wait_for(athena, "q1", lambda: next(remaining), sleep=lambda s: None)
    assert result["state"] == "RUNNING"
    assert athena.calls == 3


def test_identical_schema_has_no_differences_and_survives_json() -> None:
    group = user_group()
    schema = training_schema({group: ["txn_count_1h", "country"]})
    assert check_consistency(schema.model_dump(mode="json"), Registry([group])) == []


def test_each_training_serving_difference_is_reported_with_its_reason() -> None:
    trained = training_schema({user_group(): ["txn_count_1h", "avg_amount_1d", "country"]})
    features = [f for f in user_group().features if f.name != "country"]
    features[0] = Feature(name="txn_count_1h", dtype=Dtype.FLOAT64, max_age_seconds=3600)
    serving = user_group(features=features, schema_version=2, transformation_version="2")
    diffs = check_consistency(trained, Registry([serving]))
    assert [(d.feature, d.kind) for d in diffs] == [
        (None, DifferenceKind.SCHEMA_VERSION_CHANGED),
        (None, DifferenceKind.TRANSFORMATION_CHANGED),
        ("txn_count_1h", DifferenceKind.DTYPE_CHANGED),
        ("country", DifferenceKind.FEATURE_MISSING),
    ]
    assert diffs[2].reason == "trained as int64, serving returns float64"
    assert check_consistency(trained, Registry([]))[0].kind is DifferenceKind.GROUP_MISSING


def test_change_to_an_unused_feature_shows_as_fingerprint_change_only() -> None:
    trained = training_schema({user_group(): ["country"]})
    extra = Feature(name="new_feature", dtype=Dtype.INT64)
    serving = user_group(features=[*user_group().features, extra])
    diffs = check_consistency(trained, Registry([serving]))
    assert [d.kind for d in diffs] == [DifferenceKind.FINGERPRINT_CHANGED]


def test_items_with_a_foreign_fingerprint_are_listed() -> None:
    group = user_group()
    diffs = check_items(group, {"u1": group.fingerprint, "u2": "0000000000000000"})
    assert [d.reason.split("'")[1] for d in diffs] == ["u2"]


def test_glue_registry_reads_the_definition_the_construct_writes(glue: Any) -> None:
    from lambdas.feature_store.client import GlueRegistry

    register(glue, user_group())
    glue.create_table(DatabaseName="feature_store", TableInput={"Name": "plain_table"})
    registry = GlueRegistry(glue, "feature_store")
    assert registry.get("user_activity") == user_group()
    with pytest.raises(InputError, match="unknown feature group 'ghost'"):
        registry.get("ghost")
    with pytest.raises(InputError, match="not a feature group"):
        registry.get("plain_table")
