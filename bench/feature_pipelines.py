"""Feature pipeline throughput on this machine: Spark batch aggregation, materialization
selection, and streaming events through the window logic.

    .venv/bin/python bench/feature_pipelines.py                 # 10M rows (minutes on 2 cores)
    .venv/bin/python bench/feature_pipelines.py --rows 1000000  # quicker

Spark figures are for local[N] with generated data written to Spark's no-op sink, so they
measure the transformation (scan, shuffle, aggregate), not S3 or Parquet encoding.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["TZ"] = "UTC"
time.tzset()

from lambdas.feature_pipelines.batch_spec import BatchFeatureSpec  # noqa: E402
from lambdas.feature_pipelines.stream_events import parse_event  # noqa: E402
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec  # noqa: E402
from lambdas.feature_pipelines.window_state import EntityWindowState  # noqa: E402
from lambdas.feature_pipelines.windows import advance_emission, apply_events, feature_values  # noqa: E402
from lambdas.feature_store.registry import FeatureGroup  # noqa: E402

DAY0_S = 1_709_251_200  # 2024-03-01T00:00:00Z

GROUP = FeatureGroup.model_validate(
    {
        "name": "card_daily",
        "entity_key": "card_id",
        "owner_team": "bench",
        "features": [
            {"name": "txn_count", "dtype": "int64"},
            {"name": "amount_sum", "dtype": "float64"},
            {"name": "amount_mean", "dtype": "float64"},
            {"name": "amount_max", "dtype": "float64"},
            {"name": "merchants", "dtype": "int64"},
        ],
    }
)
BATCH_SPEC = BatchFeatureSpec.parse(
    {
        "feature_group": "card_daily",
        "entity_column": "card",
        "event_time_column": "ts",
        "features": [
            {"name": "txn_count", "aggregation": "count"},
            {"name": "amount_sum", "aggregation": "sum", "column": "amount"},
            {"name": "amount_mean", "aggregation": "mean", "column": "amount"},
            {"name": "amount_max", "aggregation": "max", "column": "amount"},
            {"name": "merchants", "aggregation": "distinct_count", "column": "merchant"},
        ],
    }
)
STREAM_SPEC = StreamingFeatureSpec.parse(
    {
        "feature_group": "card_stream",
        "entity_key": "card",
        "bucket_seconds": 60,
        "allowed_lateness_seconds": 300,
        "features": [
            {"name": "txn_count_1h", "aggregation": "count", "window_seconds": 3600},
            {"name": "txn_count_24h", "aggregation": "count", "window_seconds": 86400},
            {"name": "amount_sum_1h", "aggregation": "sum", "field": "amount", "window_seconds": 3600},
            {"name": "amount_mean_24h", "aggregation": "mean", "field": "amount", "window_seconds": 86400},
            {
                "name": "merchants_24h",
                "aggregation": "distinct_count",
                "field": "merchant",
                "window_seconds": 86400,
            },
        ],
    }
)


def spark_session(cores: int):  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("feature-pipelines-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores * 4))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def bench_batch(spark, rows: int, entities: int) -> float:  # type: ignore[no-untyped-def]
    from pyspark.sql import functions as F

    from lambdas.feature_pipelines.glue.batch_transform import aggregate_daily

    source = spark.range(rows).select(
        (F.col("id") % entities).alias("card"),
        F.timestamp_seconds(F.lit(DAY0_S) + (F.rand(1) * 30 * 86400).cast("long")).alias("ts"),
        F.round(F.rand(2) * 200, 2).alias("amount"),
        F.concat(F.lit("m"), (F.rand(3) * 500).cast("int").cast("string")).alias("merchant"),
    )
    from datetime import UTC, datetime

    daily = aggregate_daily(source, BATCH_SPEC, GROUP, datetime.now(tz=UTC))
    started = time.perf_counter()
    daily.write.format("noop").mode("overwrite").save()
    return rows / (time.perf_counter() - started)


def bench_selection(spark, rows: int, entities: int) -> float:  # type: ignore[no-untyped-def]
    from pyspark.sql import functions as F

    from lambdas.feature_pipelines.glue.materialize import latest_in_range

    seconds = (F.rand(4) * 30 * 86400).cast("long")
    offline = spark.range(rows).select(
        (F.col("id") % entities).cast("string").alias("card_id"),
        F.timestamp_seconds(F.lit(DAY0_S) + seconds).alias("event_time"),
        F.timestamp_seconds(F.lit(DAY0_S) + seconds + 60).alias("written_at"),
        F.lit(1).cast("bigint").alias("schema_version"),
        (F.col("id") % 100).alias("txn_count"),
        F.rand(5).alias("amount_sum"),
        F.rand(6).alias("amount_mean"),
        F.rand(7).alias("amount_max"),
        (F.col("id") % 7).alias("merchants"),
    )
    offline = offline.withColumn("event_date", F.date_format("event_time", "yyyy-MM-dd"))
    start_ms, end_ms = (DAY0_S + 86400) * 1000, (DAY0_S + 29 * 86400) * 1000
    selected = latest_in_range(offline, GROUP, start_ms, end_ms)
    started = time.perf_counter()
    selected.write.format("noop").mode("overwrite").save()
    return rows / (time.perf_counter() - started)


def bench_stream(batches: int, batch_size: int, entities: int) -> tuple[float, float]:
    """(events/s, ms per batch) including state decode/encode per entity per batch."""
    rng = random.Random(1)
    states: dict[str, bytes] = {}
    clock = float(DAY0_S)
    batch_payloads = []
    for b in range(batches):
        payloads = []
        for i in range(batch_size):
            clock += rng.random() * 0.5
            payloads.append(
                {
                    "card": f"c{rng.randrange(entities)}",
                    "event_id": f"{b}-{i}",
                    "event_time": clock - rng.random() * 60,
                    "amount": round(rng.random() * 200, 2),
                    "merchant": f"m{rng.randrange(300)}",
                }
            )
        batch_payloads.append(payloads)
    started = time.perf_counter()
    for payloads in batch_payloads:
        events = [parse_event(p, STREAM_SPEC) for p in payloads]
        by_entity: dict[str, list] = {}
        for event in events:
            by_entity.setdefault(event.entity, []).append(event)
        for entity, entity_events in by_entity.items():
            blob = states.get(entity)
            state = EntityWindowState.decode(blob) if blob else EntityWindowState()
            advance_emission(state, apply_events(state, entity_events, STREAM_SPEC))
            feature_values(entity, state, STREAM_SPEC)
            states[entity] = state.encode()
    elapsed = time.perf_counter() - started
    return batches * batch_size / elapsed, elapsed / batches * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="generated rows for the Spark benchmarks"
    )
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--batches", type=int, default=200, help="stream batches")
    parser.add_argument("--batch-size", type=int, default=500, help="Kinesis records per Lambda batch")
    parser.add_argument("--stream-entities", type=int, default=2000)
    parser.add_argument("--skip-spark", action="store_true")
    args = parser.parse_args()

    events_per_s, ms_per_batch = bench_stream(args.batches, args.batch_size, args.stream_entities)
    print(
        f"streaming window logic: {events_per_s:,.0f} events/s "
        f"({ms_per_batch:.1f} ms per batch of {args.batch_size}, {args.stream_entities} entities, "
        f"5 features, state encoded/decoded per entity per batch)"
    )
    if args.skip_spark:
        return
    spark = spark_session(args.cores)
    try:
        bench_batch(spark, min(args.rows, 200_000), args.entities)  # JIT and planner warm-up
        rate = bench_batch(spark, args.rows, args.entities)
        print(f"batch daily aggregation: {rate:,.0f} rows/s ({args.rows:,} rows, local[{args.cores}])")
        bench_selection(spark, min(args.rows, 200_000), args.entities)
        rate = bench_selection(spark, args.rows, args.entities)
        print(f"materialization selection: {rate:,.0f} rows/s ({args.rows:,} rows, local[{args.cores}])")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
