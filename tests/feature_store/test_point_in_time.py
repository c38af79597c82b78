"""The generated point-in-time SQL, run by DuckDB over the offline Parquet layout, equals a
brute-force Python join."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from lambdas.common.errors import InputError
from lambdas.feature_store.offline_files import offline_files
from lambdas.feature_store.point_in_time import FeatureRequest, athena_table, point_in_time_sql
from lambdas.feature_store.registry import Dtype, Feature, FeatureGroup
from lambdas.feature_store.validation import ValidRecord, validate_record

from .conftest import user_group

START = datetime(2025, 12, 28, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)

MERCHANT = FeatureGroup(
    name="merchant_risk",
    entity_key="merchant_id",
    owner_team="risk",
    features=(
        Feature(name="chargeback_rate", dtype=Dtype.FLOAT64, max_age_seconds=2 * 86400),
        Feature(name="category", dtype=Dtype.STRING),
        # Same name as a user feature: needs prefixing.
        Feature(name="score", dtype=Dtype.FLOAT64, max_age_seconds=3600),
    ),
)


def random_records(
    group: FeatureGroup, rng: np.random.Generator, n: int, n_entities: int
) -> list[dict[str, Any]]:
    records = []
    for _ in range(n):
        # Event times on a 10-minute grid so equal event times (ties) happen.
        event_ms = START_MS + int(rng.integers(0, 4 * 144)) * 600_000
        record: dict[str, Any] = {
            group.entity_key: f"e{rng.integers(0, n_entities)}",
            "event_time": event_ms / 1000,
        }
        for f in group.features:
            if rng.random() < 0.1 and f.allow_null:
                record[f.name] = None
            elif f.dtype == "int64":
                record[f.name] = int(rng.integers(0, 1000))
            elif f.dtype == "float64":
                record[f.name] = float(np.round(rng.normal(), 6))
            elif f.dtype == "string":
                record[f.name] = str(rng.choice(["NL", "DE", "FR"]))
            else:
                record[f.name] = bool(rng.random() < 0.5)
        records.append(record)
    return records


def write_batches(
    root: Path, group: FeatureGroup, records: list[dict[str, Any]], batches: int
) -> list[tuple[ValidRecord, int]]:
    """Write in several batches with increasing written_at; return (record, written_at)."""
    now_ms = START_MS + 10 * 86400_000
    out: list[tuple[ValidRecord, int]] = []
    for b, chunk in enumerate(np.array_split(np.arange(len(records)), batches)):
        written_at = now_ms + b * 1000
        valid = [validate_record(group, records[i], int(i), now_ms) for i in chunk]
        assert all(isinstance(v, ValidRecord) for v in valid)
        typed = [v for v in valid if isinstance(v, ValidRecord)]
        for f in offline_files(group, typed, written_at, "offline"):
            path = root / f.key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f.body)
        out.extend((v, written_at) for v in typed)
    return out


def brute_force(
    group: FeatureGroup,
    stored: list[tuple[ValidRecord, int]],
    entity: str,
    ts_ms: int,
    names: tuple[str, ...],
) -> list[Any]:
    candidates = [(r, w) for r, w in stored if r.entity_id == entity and r.event_time_ms <= ts_ms]
    if not candidates:
        return [None] * len(names)
    best, _ = min(candidates, key=lambda rw: (-rw[0].event_time_ms, rw[1]))
    values = []
    for name in names:
        feature = group.by_name[name]
        age = ts_ms - best.event_time_ms
        fresh = feature.max_age_seconds is None or age <= feature.max_age_seconds * 1000
        values.append(best.values[group.feature_index[name]] if fresh else None)
    return values


def duckdb_table(root: Path):  # type: ignore[no-untyped-def]
    return lambda g: (
        f"read_parquet('{root}/offline/feature_group={g.name}/*/*.parquet', hive_partitioning = true)"
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_duckdb_result_matches_brute_force_join(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    users = user_group()
    stored_users = write_batches(tmp_path, users, random_records(users, rng, 300, 8), batches=3)
    stored_merchants = write_batches(tmp_path, MERCHANT, random_records(MERCHANT, rng, 150, 4), batches=2)

    rows = []
    for i in range(120):
        ts_ms = START_MS + int(rng.integers(-144, 5 * 144)) * 300_000  # includes exact ties with events
        rows.append((f"e{rng.integers(0, 10)}", f"e{rng.integers(0, 5)}", ts_ms, i % 2))
    rows.append(rows[0])  # duplicate entity row is kept
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE entity_rows (user_id VARCHAR, merchant_id VARCHAR, ts TIMESTAMP, label INTEGER)"
    )
    con.executemany(
        "INSERT INTO entity_rows VALUES (?, ?, ?, ?)",
        [(u, m, datetime.fromtimestamp(t / 1000, UTC).replace(tzinfo=None), y) for u, m, t, y in rows],
    )
    user_features = ("txn_count_1h", "avg_amount_1d", "country", "score")
    sql = point_in_time_sql(
        entity_source="entity_rows",
        timestamp_column="ts",
        requests=[
            FeatureRequest(users, user_features),
            FeatureRequest(MERCHANT, None, prefix=True),
        ],
        table_sql=duckdb_table(tmp_path),
        time_range=(date(2025, 12, 27), date(2026, 1, 2)),
    )
    result = con.execute(sql).fetchall()
    columns = [d[0] for d in con.description]
    assert columns == [
        "user_id", "merchant_id", "ts", "label", *user_features,
        "merchant_risk__chargeback_rate", "merchant_risk__category", "merchant_risk__score",
    ]  # fmt: skip
    got = sorted(result, key=lambda r: (r[0], r[1], r[2], r[3]))
    expected = []
    for u, m, t, y in rows:
        expected.append(
            (
                u,
                m,
                datetime.fromtimestamp(t / 1000, UTC).replace(tzinfo=None),
                y,
                *brute_force(users, stored_users, u, t, user_features),
                *brute_force(MERCHANT, stored_merchants, m, t, MERCHANT.feature_names),
            )
        )
    expected.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    assert got == expected
    assert any(v is not None for r in got for v in r[4:]), "the join found no features at all"


def test_no_value_from_after_the_row_timestamp_leaks(tmp_path: Path) -> None:
    users = user_group()
    records = [
        {"user_id": "u", "event_time": (START_MS + 1000) / 1000, "txn_count_1h": 1, "is_verified": True},
        {"user_id": "u", "event_time": (START_MS + 2000) / 1000, "txn_count_1h": 2, "is_verified": True},
    ]
    write_batches(tmp_path, users, records, batches=1)
    con = duckdb.connect()
    con.execute("CREATE TABLE rows_ (user_id VARCHAR, ts TIMESTAMP)")
    base = START.replace(tzinfo=None)
    con.executemany(
        "INSERT INTO rows_ VALUES (?, ?)",
        [("u", base + timedelta(milliseconds=ms)) for ms in (999, 1000, 1999, 2000, 3_601_000, 3_602_001)],
    )
    sql = point_in_time_sql(
        entity_source="rows_",
        timestamp_column="ts",
        requests=[FeatureRequest(users, ("txn_count_1h",))],
        table_sql=duckdb_table(tmp_path),
    )
    values = [r[2] for r in con.execute(sql + " ORDER BY e.ts").fetchall()]
    # Before the first event: nothing; then the latest at or before; past 1 h max age: null.
    assert values == [None, 1, 1, 2, 2, None]


def test_athena_sql_names_glue_tables_and_bounds_partitions() -> None:
    sql = point_in_time_sql(
        entity_source='"ml"."labels"',
        timestamp_column="ts",
        requests=[FeatureRequest(MERCHANT, ("chargeback_rate",))],
        table_sql=athena_table("feature_store"),
        time_range=(date(2026, 1, 10), date(2026, 1, 20)),
    )
    assert 'JOIN "feature_store"."merchant_risk" f' in sql
    assert "f.event_date BETWEEN '2026-01-08' AND '2026-01-20'" in sql
    assert "INTERVAL '172800' SECOND" in sql


def test_output_column_clash_between_groups_is_an_error_naming_the_fix() -> None:
    with pytest.raises(InputError, match="prefix=True"):
        point_in_time_sql(
            entity_source="t",
            timestamp_column="ts",
            requests=[FeatureRequest(user_group(), ("score",)), FeatureRequest(MERCHANT, ("score",))],
            table_sql=athena_table("db"),
        )
