"""Glue entry script of a batch feature group: arguments, catalog, then `batch_transform`.

Incremental runs: the bookmarked read (``transformation_ctx``) yields only source data
not seen by an earlier successful run; the event dates it touches are rebuilt from the
whole source and replace their offline partitions. The offline table uses partition
projection (``feature_store.offline_layout``), so new partitions need no registration.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from lambdas.feature_pipelines.batch_spec import BatchFeatureSpec, validate_batch_job
from lambdas.feature_pipelines.glue import job_args as a
from lambdas.feature_pipelines.glue.batch_transform import aggregate_daily, touched_dates, write_offline
from lambdas.feature_store.registry import FeatureGroup

try:  # Only present inside Glue; the module must import without it (tests, docs, linting).
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
except ImportError:  # pragma: no cover - exercised only on Glue
    GlueContext = Job = getResolvedOptions = None


def main(argv: list[str]) -> None:  # pragma: no cover - runs only on Glue
    from pyspark.context import SparkContext

    args = getResolvedOptions(argv, ["JOB_NAME", *a.BATCH_ARGS])
    spec = BatchFeatureSpec.model_validate_json(args[a.SPEC])
    group = FeatureGroup.model_validate_json(args[a.FEATURE_GROUP])
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MILLIS")
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    new_rows = glue_context.create_dynamic_frame.from_catalog(
        database=args[a.SOURCE_DATABASE], table_name=args[a.SOURCE_TABLE], transformation_ctx="source"
    ).toDF()
    if new_rows.columns:
        # Fail on a drifted source before any Spark error can hide which column is wrong.
        validate_batch_job(dict(new_rows.dtypes), spec, group)
    dates = touched_dates(new_rows, spec) if new_rows.columns else []
    if dates:
        full = glue_context.create_dynamic_frame.from_catalog(
            database=args[a.SOURCE_DATABASE], table_name=args[a.SOURCE_TABLE]
        ).toDF()
        daily = aggregate_daily(full, spec, group, datetime.now(tz=UTC), dates=dates)
        write_offline(daily, args[a.OFFLINE_PATH], group)
    print(f"feature group {group.name}: rebuilt {len(dates)} event dates {dates[:10]}")
    job.commit()


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv)
