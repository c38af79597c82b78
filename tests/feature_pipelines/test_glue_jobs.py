from __future__ import annotations

import importlib
from typing import Any

import pytest

from lambdas.common.errors import InputError
from lambdas.feature_pipelines.glue import job_args as a
from lambdas.feature_pipelines.glue.materialization_job import _empty_schema, run_from_args
from lambdas.feature_pipelines.glue.materialize import latest_in_range
from tests.feature_pipelines.spark_data import GROUP


def _args(**overrides: str) -> dict[str, str]:
    args = {
        a.FEATURE_GROUP: GROUP.model_dump_json(),
        a.ONLINE_TABLE: "online",
        a.CHECKPOINT_BUCKET: "work",
        a.CHECKPOINT_PREFIX: "materialization",
        a.PARTITIONS: "8",
        a.WRITES_PER_SECOND: "50",
        a.LOOKBACK_HOURS: "24",
        a.END: "2024-03-02T00:00:00Z",
    }
    args.update(overrides)
    return args


@pytest.mark.parametrize("module", ["batch_features_job", "materialization_job"])
def test_job_scripts_import_without_glue(module: str) -> None:
    loaded = importlib.import_module(f"lambdas.feature_pipelines.glue.{module}")
    assert loaded.GlueContext is None and callable(loaded.main)


def test_scheduled_time_and_lookback_give_the_range() -> None:
    run = run_from_args(_args())
    assert (run.start_ms, run.end_ms) == (1_709_251_200_000, 1_709_337_600_000)
    assert run.partitions == 8 and run.writes_per_second == 50.0


def test_same_arguments_give_the_same_run_id_and_another_range_a_new_one() -> None:
    assert run_from_args(_args()).run_id == run_from_args(_args()).run_id
    assert run_from_args(_args()).run_id != run_from_args(_args(**{a.END: "2024-03-03T00:00:00Z"})).run_id


@pytest.mark.parametrize(
    ("override", "field"),
    [({a.END: "yesterday"}, "--end"), ({a.LOOKBACK_HOURS: "-1"}, "--lookback_hours")],
)
def test_bad_range_arguments_name_the_argument(override: dict[str, str], field: str) -> None:
    with pytest.raises(InputError) as info:
        run_from_args(_args(**override))
    assert info.value.problems[0].field == field


@pytest.mark.spark
def test_missing_offline_data_selects_nothing(spark: Any) -> None:
    empty = spark.createDataFrame([], _empty_schema(GROUP))
    assert latest_in_range(empty, GROUP, 0, 2**40).count() == 0
