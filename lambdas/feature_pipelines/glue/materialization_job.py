"""Glue entry script of materialization (offline -> online) for one feature group.

Started by EventBridge Scheduler with ``--end`` set to the scheduled time (or by the
retraining pipeline with any ``--end``); rerunning with the same arguments resumes.
"""

from __future__ import annotations

import json
import sys

from lambdas.feature_pipelines.glue import job_args as a
from lambdas.feature_pipelines.glue.batch_transform import offline_group_path
from lambdas.feature_pipelines.glue.materialize import MaterializationRun, materialize
from lambdas.feature_store.registry import FeatureGroup

try:  # Only present inside Glue; the module must import without it.
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
except ImportError:  # pragma: no cover - exercised only on Glue
    GlueContext = Job = getResolvedOptions = None


def run_from_args(args: dict[str, str]) -> MaterializationRun:
    start_ms, end_ms = a.materialization_range(args)
    group = FeatureGroup.model_validate_json(args[a.FEATURE_GROUP])
    return MaterializationRun(
        group_json=group.model_dump_json(),
        table_name=args[a.ONLINE_TABLE],
        start_ms=start_ms,
        end_ms=end_ms,
        checkpoint_bucket=args[a.CHECKPOINT_BUCKET],
        checkpoint_prefix=args[a.CHECKPOINT_PREFIX],
        partitions=int(args[a.PARTITIONS]),
        writes_per_second=float(args[a.WRITES_PER_SECOND]),
    )


def main(argv: list[str]) -> None:  # pragma: no cover - runs only on Glue
    from pyspark.context import SparkContext

    args = getResolvedOptions(argv, ["JOB_NAME", *a.MATERIALIZATION_ARGS])
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    run = run_from_args(args)
    path = offline_group_path(args[a.OFFLINE_PATH], run.group)
    try:
        offline = spark.read.parquet(path)
    except Exception as exc:
        if "PATH_NOT_FOUND" not in str(exc) and "Path does not exist" not in str(exc):
            raise
        offline = None
    if offline is None:
        counts = materialize(spark.createDataFrame([], _empty_schema(run.group)), run)
    else:
        counts = materialize(offline, run)
    print(json.dumps({"feature_group": run.group.name, "run_id": run.run_id, **counts.to_json()}))
    job.commit()


def _empty_schema(group: FeatureGroup) -> str:
    from lambdas.feature_store.offline_layout import glue_columns

    columns = ", ".join(f"`{name}` {kind}" for name, kind in glue_columns(group))
    return f"{columns}, event_date string"


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv)
