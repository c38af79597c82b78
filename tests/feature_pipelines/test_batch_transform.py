from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from lambdas.common.errors import InputError
from lambdas.feature_pipelines.batch_spec import check_against_group, check_source_columns
from lambdas.feature_pipelines.glue.batch_transform import (
    aggregate_daily,
    offline_group_path,
    touched_dates,
    write_offline,
)
from lambdas.feature_store.offline_layout import glue_columns
from tests.feature_pipelines.spark_data import GROUP, SOURCE_DDL, SPEC, source_rows

pytestmark = pytest.mark.spark
WRITTEN_AT = datetime(2024, 3, 10, tzinfo=UTC)


def reference_daily(rows: list[tuple]) -> dict[tuple[str, str], dict[str, Any]]:
    by_key: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for row in rows:
        by_key[(str(row[0]), row[1].strftime("%Y-%m-%d"))].append(row)
    out = {}
    for key, group_rows in by_key.items():
        amounts = [r[2] for r in group_rows if r[2] is not None]
        out[key] = {
            "event_time": max(r[1] for r in group_rows).replace(tzinfo=None),
            "txn_count": len(group_rows),
            "amount_sum": math.fsum(amounts) if amounts else None,
            "amount_mean": math.fsum(amounts) / len(amounts) if amounts else None,
            "amount_max": max(amounts) if amounts else None,
            "merchants": len({r[3] for r in group_rows if r[3] is not None}),
            "qty_sum": sum(r[4] for r in group_rows),
        }
    return out


def test_daily_aggregation_matches_plain_python(spark: Any) -> None:
    rows = source_rows(800, seed=1)
    daily = aggregate_daily(spark.createDataFrame(rows, SOURCE_DDL), SPEC, GROUP, WRITTEN_AT)
    expected = reference_daily(rows)
    got = {(r["card_id"], r["event_date"]): r.asDict() for r in daily.collect()}
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        row = got[key]
        assert row["event_time"] == want["event_time"]
        assert row["written_at"] == WRITTEN_AT.replace(tzinfo=None)
        assert row["schema_version"] == GROUP.schema_version
        for name in ("txn_count", "merchants", "qty_sum"):
            assert row[name] == want[name], (key, name)
        for name in ("amount_sum", "amount_mean", "amount_max"):
            assert row[name] == pytest.approx(want[name], rel=1e-12), (key, name)


def test_output_columns_follow_the_offline_layout(spark: Any) -> None:
    daily = aggregate_daily(
        spark.createDataFrame(source_rows(50, seed=2), SOURCE_DDL), SPEC, GROUP, WRITTEN_AT
    )
    spark_to_glue = {"bigint": "bigint", "double": "double", "string": "string", "timestamp": "timestamp"}
    assert [(name, spark_to_glue[t]) for name, t in daily.dtypes[:-1]] == glue_columns(GROUP)
    assert daily.dtypes[-1] == ("event_date", "string")


def test_source_with_renamed_column_fails_naming_it(spark: Any) -> None:
    source = spark.createDataFrame(source_rows(10, seed=3), SOURCE_DDL).withColumnRenamed("merchant", "shop")
    with pytest.raises(InputError) as info:
        aggregate_daily(source, SPEC, GROUP, WRITTEN_AT)
    assert [p.field for p in info.value.problems] == ["merchant"]
    assert "missing" in str(info.value)


def test_source_with_mistyped_columns_fails_naming_each() -> None:
    dtypes = {"card": "boolean", "ts": "string", "amount": "string", "merchant": "string", "qty": "double"}
    problems = check_source_columns(dtypes, SPEC, GROUP)
    assert {p.field: p.reason for p in problems} == {
        "card": "column has type boolean, expected string or integer entity id",
        "ts": "column has type string, expected timestamp",
        "amount": "column has type string, expected numeric",
        "qty": "column has type double, expected integer (feature qty_sum is int64)",
    }


def test_spec_that_does_not_cover_the_group_is_reported() -> None:
    partial = SPEC.model_copy(update={"features": SPEC.features[:-1]})
    problems = check_against_group(partial, GROUP)
    assert [p.field for p in problems] == ["features.qty_sum"]


def test_incremental_run_rewrites_only_touched_dates(spark: Any, tmp_path: Path) -> None:
    root = str(tmp_path / "offline")
    rows = source_rows(800, seed=4, days=4)
    write_offline(
        aggregate_daily(spark.createDataFrame(rows, SOURCE_DDL), SPEC, GROUP, WRITTEN_AT), root, GROUP
    )
    late = [r for r in source_rows(200, seed=5, days=4) if r[1].day == 2]
    new_rows = spark.createDataFrame(late, SOURCE_DDL)
    dates = touched_dates(new_rows, SPEC)
    assert dates == ["2024-03-02"]
    all_rows = spark.createDataFrame(rows + late, SOURCE_DDL)
    write_offline(aggregate_daily(all_rows, SPEC, GROUP, WRITTEN_AT, dates=dates), root, GROUP)

    group_dir = Path(offline_group_path(root, GROUP))
    assert sorted(p.name for p in group_dir.iterdir() if p.is_dir()) == [
        f"event_date=2024-03-0{d}" for d in range(1, 5)
    ]
    expected = reference_daily(rows + late)
    stored = pq.read_table(group_dir, partitioning="hive").to_pylist()
    assert len(stored) == len(expected)
    for row in stored:
        want = expected[(row["card_id"], str(row["event_date"]))]
        assert row["txn_count"] == want["txn_count"]
        assert row["merchants"] == want["merchants"]
