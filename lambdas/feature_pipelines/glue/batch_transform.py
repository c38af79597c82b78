"""Daily batch aggregation per entity and UTC event date, as plain PySpark DataFrame code.

Output rows follow the offline store layout (``lambdas.feature_store.offline_layout``):
entity key, ``event_time`` (the newest source event of that entity on that date, so a
point-in-time join never sees the day's aggregate before its last event), ``written_at``,
``schema_version``, the group's features in registry order, and ``event_date`` as the
partition column.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lambdas.feature_pipelines.batch_spec import (
    BatchAggregation,
    BatchFeature,
    BatchFeatureSpec,
    validate_batch_job,
)
from lambdas.feature_store import offline_layout as layout
from lambdas.feature_store.registry import Dtype, FeatureGroup

_SPARK_TYPES = {Dtype.INT64: "bigint", Dtype.FLOAT64: "double", Dtype.STRING: "string", Dtype.BOOL: "boolean"}
DATE_FORMAT = "yyyy-MM-dd"


def _require_utc(df: DataFrame) -> None:
    zone = df.sparkSession.conf.get("spark.sql.session.timeZone")
    if zone not in ("UTC", "Etc/UTC", "GMT"):
        raise RuntimeError(f"spark.sql.session.timeZone is {zone}; event dates are UTC, set it to UTC")


def _aggregate(feature: BatchFeature) -> Column:
    if feature.column is None:
        return F.count(F.lit(1))
    column = F.col(feature.column)
    match feature.aggregation:
        case BatchAggregation.COUNT:
            return F.count(column)
        case BatchAggregation.DISTINCT_COUNT:
            return F.countDistinct(column)
        case BatchAggregation.SUM:
            return F.sum(column)
        case BatchAggregation.MEAN:
            return F.avg(column)
        case BatchAggregation.MIN:
            return F.min(column)
        case BatchAggregation.MAX:
            return F.max(column)


def with_event_date(df: DataFrame, event_time_column: str) -> DataFrame:
    return df.withColumn(layout.PARTITION_COLUMN, F.date_format(F.col(event_time_column), DATE_FORMAT))


def touched_dates(new_rows: DataFrame, spec: BatchFeatureSpec) -> list[str]:
    """UTC event dates present in newly arrived rows: the partitions an incremental run rebuilds."""
    _require_utc(new_rows)
    dated = with_event_date(new_rows.where(F.col(spec.event_time_column).isNotNull()), spec.event_time_column)
    return sorted(r[0] for r in dated.select(layout.PARTITION_COLUMN).distinct().collect())


def aggregate_daily(
    source: DataFrame,
    spec: BatchFeatureSpec,
    group: FeatureGroup,
    written_at: datetime,
    dates: Sequence[str] | None = None,
) -> DataFrame:
    """The group's features per entity and event date; `dates` limits which dates are built.

    Rows without an entity id or event time cannot be placed in any partition and are
    dropped. Raises `InputError` naming each missing or mistyped source column.
    """
    validate_batch_job(dict(source.dtypes), spec, group)
    _require_utc(source)
    rows = source.where(F.col(spec.entity_column).isNotNull() & F.col(spec.event_time_column).isNotNull())
    rows = with_event_date(rows, spec.event_time_column)
    if dates is not None:
        rows = rows.where(F.col(layout.PARTITION_COLUMN).isin(list(dates)))
    by_name = {f.name: f for f in spec.features}
    grouped = rows.groupBy(
        F.col(spec.entity_column).cast("string").alias(group.entity_key), layout.PARTITION_COLUMN
    )
    aggregated = grouped.agg(
        F.max(spec.event_time_column).alias(layout.EVENT_TIME_COLUMN),
        *(_aggregate(by_name[f.name]).alias(f.name) for f in group.features),
    )
    return aggregated.select(
        F.col(group.entity_key),
        F.col(layout.EVENT_TIME_COLUMN).cast("timestamp").alias(layout.EVENT_TIME_COLUMN),
        F.lit(written_at).cast("timestamp").alias(layout.WRITTEN_AT_COLUMN),
        F.lit(group.schema_version).cast("bigint").alias(layout.SCHEMA_VERSION_COLUMN),
        *(F.col(f.name).cast(_SPARK_TYPES[f.dtype]).alias(f.name) for f in group.features),
        F.col(layout.PARTITION_COLUMN),
    )


def offline_group_path(offline_root: str, group: FeatureGroup) -> str:
    """``<root>/feature_group=<g>``: Spark adds ``event_date=YYYY-MM-DD/`` below it."""
    return f"{offline_root.rstrip('/')}/feature_group={group.name}"


def write_offline(daily: DataFrame, offline_root: str, group: FeatureGroup) -> None:
    """Replace exactly the event-date partitions present in `daily`; other dates stay.

    A batch group's offline prefix belongs to its job, so replacing a whole date is
    safe, and it makes a rerun or an incremental run idempotent rather than additive.
    """
    (
        daily.write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "zstd")
        .partitionBy(layout.PARTITION_COLUMN)
        .parquet(offline_group_path(offline_root, group))
    )
