"""Offline -> online materialization: selection in Spark, writes in parallel partitions.

The selection keeps, per entity, the newest offline row whose event time lies in
``[start, end)`` (ties broken by the newest ``written_at``). The rows are hash-partitioned
by entity into a fixed number of partitions; each partition writes its rows with
``online_writer.write_rows`` and, when done, records a checkpoint object with its counts.
A rerun with the same group, range and partition count has the same run id and skips the
checkpointed partitions, so a failed job resumes where it stopped; a partition that died
halfway is redone, which the conditional writes make safe (already written rows come back
as unchanged).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lambdas.feature_pipelines.glue.online_writer import (
    ENTITY_ID_COLUMN,
    EVENT_TIME_MS_COLUMN,
    RateLimiter,
    WriteCounts,
    write_rows,
)
from lambdas.feature_store import offline_layout as layout
from lambdas.feature_store.registry import FeatureGroup


@dataclass(frozen=True)
class MaterializationRun:
    """Everything a materialization needs; picklable so Spark ships it to executors."""

    group_json: str
    table_name: str
    start_ms: int
    end_ms: int
    checkpoint_bucket: str
    checkpoint_prefix: str
    partitions: int = 16
    writes_per_second: float = 100.0
    region: str | None = None
    # Only for local runs against a stand-in (moto server); unset on Glue.
    endpoint_url: str | None = None
    skip_partitions: frozenset[int] = field(default_factory=frozenset)

    @property
    def group(self) -> FeatureGroup:
        return FeatureGroup.model_validate_json(self.group_json)

    @property
    def run_id(self) -> str:
        identity = f"{self.group.fingerprint}|{self.start_ms}|{self.end_ms}|{self.partitions}"
        return hashlib.sha256(identity.encode()).hexdigest()[:16]

    @property
    def run_prefix(self) -> str:
        parts = [p for p in self.checkpoint_prefix.strip("/").split("/") if p]
        return "/".join([*parts, self.group.name, self.run_id])

    def partition_key(self, index: int) -> str:
        return f"{self.run_prefix}/partition-{index:05d}.json"

    @property
    def summary_key(self) -> str:
        return f"{self.run_prefix}/summary.json"

    def dynamodb(self) -> Any:
        import boto3

        return boto3.client("dynamodb", region_name=self.region, endpoint_url=self.endpoint_url)

    def s3(self) -> Any:
        import boto3

        return boto3.client("s3", region_name=self.region, endpoint_url=self.endpoint_url)


def _date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def latest_in_range(offline: DataFrame, group: FeatureGroup, start_ms: int, end_ms: int) -> DataFrame:
    """Newest row per entity with ``start_ms <= event time < end_ms``, as ``entity_id``,
    ``event_time_ms`` and the group's features."""
    event_ms = F.expr(f"unix_millis(`{layout.EVENT_TIME_COLUMN}`)")
    # The date filter prunes partitions before the exact millisecond filter reads any rows.
    in_range = offline.where(
        F.col(layout.PARTITION_COLUMN).cast("string").between(_date(start_ms), _date(end_ms))
    ).withColumn(EVENT_TIME_MS_COLUMN, event_ms)
    in_range = in_range.where(
        (F.col(EVENT_TIME_MS_COLUMN) >= start_ms) & (F.col(EVENT_TIME_MS_COLUMN) < end_ms)
    )
    newest_first = Window.partitionBy(group.entity_key).orderBy(
        F.col(EVENT_TIME_MS_COLUMN).desc(), F.col(layout.WRITTEN_AT_COLUMN).desc()
    )
    ranked = in_range.withColumn("_rank", F.row_number().over(newest_first)).where(F.col("_rank") == 1)
    return ranked.select(
        F.col(group.entity_key).cast("string").alias(ENTITY_ID_COLUMN),
        F.col(EVENT_TIME_MS_COLUMN),
        *(F.col(name) for name in group.feature_names),
    )


class PartitionWriter:
    """The function Spark runs per partition: write its rows, checkpoint, yield the counts."""

    def __init__(self, run: MaterializationRun) -> None:
        self.run = run

    def __call__(self, index: int, rows: Iterable[Any]) -> Iterator[tuple[int, dict[str, int]]]:
        if index in self.run.skip_partitions:
            return
        iterator = iter(rows)
        first = next(iterator, None)
        if first is None:
            yield index, WriteCounts().to_json()
            return
        group = self.run.group

        def as_dicts() -> Iterator[dict[str, Any]]:
            yield first.asDict()
            for row in iterator:
                yield row.asDict()

        counts = write_rows(
            as_dicts(),
            group=group,
            table_name=self.run.table_name,
            dynamodb=self.run.dynamodb(),
            limiter=RateLimiter(self.run.writes_per_second),
            now_ms=int(time.time() * 1000),
        )
        self.run.s3().put_object(
            Bucket=self.run.checkpoint_bucket,
            Key=self.run.partition_key(index),
            Body=json.dumps(counts.to_json()).encode(),
        )
        yield index, counts.to_json()


def completed_partitions(run: MaterializationRun, s3: Any) -> dict[int, WriteCounts]:
    """Counts of the partitions an earlier attempt of this run already finished."""
    done: dict[int, WriteCounts] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=run.checkpoint_bucket, Prefix=f"{run.run_prefix}/partition-"):
        for obj in page.get("Contents", []):
            index = int(obj["Key"].rsplit("partition-", 1)[1].split(".")[0])
            body = s3.get_object(Bucket=run.checkpoint_bucket, Key=obj["Key"])["Body"].read()
            done[index] = WriteCounts.from_json(json.loads(body))
    return done


def materialize(offline: DataFrame, run: MaterializationRun) -> WriteCounts:
    """Run (or resume) the materialization; returns the run's total counts and records them.

    A range without data is a no-op whose summary records zero counts.
    """
    s3 = run.s3()
    done = completed_partitions(run, s3)
    resumed = MaterializationRun(**{**run.__dict__, "skip_partitions": frozenset(done)})
    group = run.group
    selected = latest_in_range(offline, group, run.start_ms, run.end_ms).repartition(
        run.partitions, ENTITY_ID_COLUMN
    )
    results = selected.rdd.mapPartitionsWithIndex(PartitionWriter(resumed)).collect()
    total = WriteCounts()
    for counts in done.values():
        total += counts
    for _, counts_json in results:
        total += WriteCounts.from_json(counts_json)
    summary = {
        "feature_group": group.name,
        "run_id": run.run_id,
        "start_ms": run.start_ms,
        "end_ms": run.end_ms,
        "partitions": run.partitions,
        "resumed_partitions": sorted(done),
        "counts": total.to_json(),
    }
    s3.put_object(Bucket=run.checkpoint_bucket, Key=run.summary_key, Body=json.dumps(summary).encode())
    return total
