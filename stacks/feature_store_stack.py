"""Feature store stack: online/offline stores for every feature group, and their pipelines."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import durations
from constructs_lib.batch_features import BatchFeaturePipeline
from constructs_lib.feature_store import FeatureStore
from constructs_lib.streaming_features import StreamingFeaturePipeline
from lambdas.feature_pipelines.batch_spec import BatchFeature, BatchFeatureSpec
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec, WindowedFeature
from lambdas.feature_store.registry import Feature as RegistryFeature
from lambdas.feature_store.registry import FeatureGroup as RegistryGroup
from lambdas.training.run_naming import ARTIFACT_PREFIX
from stacks.config.models import FeatureGroup, PlatformConfig, StreamingSource, duration_seconds
from stacks.foundation_stack import FoundationStack


def training_set_function_name(config: PlatformConfig, environment: str) -> str:
    """Physical name of the training-set function: other stacks import it by this literal ARN."""
    return f"{config.name}-{environment}-training-set"[:64]


def registry_group(group: FeatureGroup) -> RegistryGroup:
    """The runtime registry's definition of a configured feature group."""
    return RegistryGroup(
        name=group.name,
        entity_key=group.entity_key,
        owner_team=group.owner,
        schema_version=group.schema_version,
        description=group.description,
        features=tuple(
            RegistryFeature(
                name=f.name,
                dtype=f.dtype,  # type: ignore[arg-type]
                max_age_seconds=duration_seconds(f.max_age),
                allow_null=f.nullable,
                description=f.description,
            )
            for f in group.features
        ),
    )


def streaming_spec(source: StreamingSource) -> StreamingFeatureSpec:
    return StreamingFeatureSpec(
        feature_group=source.feature_group,
        entity_key=source.entity_key,
        event_id_field=source.event_id_field,
        event_time_field=source.event_time_field,
        allowed_lateness_seconds=duration_seconds(source.allowed_lateness),
        features=tuple(
            WindowedFeature(
                name=w.feature,
                aggregation=w.function,  # type: ignore[arg-type]
                field=w.column,
                window_seconds=duration_seconds(w.window),
            )
            for w in source.windows
        ),
    )


def batch_spec(group: FeatureGroup) -> BatchFeatureSpec:
    assert group.batch is not None
    return BatchFeatureSpec(
        feature_group=group.name,
        entity_column=group.entity_key,
        event_time_column=group.batch.timestamp_column,
        features=tuple(
            BatchFeature(name=a.name, aggregation=a.function, column=a.column)  # type: ignore[arg-type]
            for a in group.batch.aggregations
        ),
    )


class FeatureStoreStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        foundation: FoundationStack,
        environment: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        groups = {g.name: registry_group(g) for g in config.feature_groups}
        #: Set when the function has a physical name, i.e. when the stage names the environment.
        self.training_set_function_name = (
            training_set_function_name(config, environment) if environment is not None else None
        )
        offline = config.feature_store.offline
        self.feature_store = store = FeatureStore(
            self,
            "FeatureStore",
            feature_groups=list(groups.values()),
            key=foundation.data_key,
            glue_database_name=f"{config.name.replace('-', '_')}_feature_store",
            alarm_topic=foundation.alarm_topic,
            ingestion_batch_size=config.feature_store.ingestion_batch_size,
            infrequent_access_after=durations.days(offline.infrequent_access_after_days),
            glacier_after=_days(offline.glacier_after_days),
            expire_after=_days(offline.expire_after_days),
            training_set_function_name=self.training_set_function_name,
        )
        if any(m.training is not None for m in config.models):
            # The retraining pipelines' runs UNLOAD their training sets into the artifact bucket.
            store.grant_training_set_output(foundation.bucket_for(self, "artifacts"), ARTIFACT_PREFIX)
        labels = sorted(
            {(m.training.labels_table, m.training.labels_location) for m in config.models if m.training}
        )
        for labels_table, location in labels:
            database, _, table = labels_table.partition(".")
            bucket_name, _, prefix = location.removeprefix("s3://").partition("/")
            store.grant_training_set_source(
                database=database,
                table=table,
                bucket=s3.Bucket.from_bucket_name(self, f"Labels-{database}-{table}", bucket_name),
                prefix=prefix,
            )
        self.streaming = {
            source.name: StreamingFeaturePipeline(
                self,
                f"Stream-{source.name}",
                spec=streaming_spec(source),
                feature_group=groups[source.feature_group],
                key=foundation.data_key,
                online_table=store.table,
                offline_bucket=store.offline_bucket,
                glue_database_name=store.glue_database_name,
                offline_prefix=store.offline_prefix,
                enhanced_fan_out=source.enhanced_fan_out,
            )
            for source in config.streaming_sources
        }
        owners = {g.name: g.owner for g in config.feature_groups}
        for source in config.streaming_sources:
            cdk.Tags.of(self.streaming[source.name]).add("team", owners[source.feature_group])
        self.batch = {}
        for group in config.feature_groups:
            if group.batch is None:
                continue
            bucket_name, _, prefix = group.batch.source_path.removeprefix("s3://").partition("/")
            self.batch[group.name] = BatchFeaturePipeline(
                self,
                f"Batch-{group.name}",
                spec=batch_spec(group),
                feature_group=groups[group.name],
                key=foundation.data_key,
                source_database=group.batch.source_database,
                source_table=group.batch.source_table,
                source_bucket=s3.Bucket.from_bucket_name(self, f"Source-{group.name}", bucket_name),
                source_prefix=prefix,
                offline_bucket=store.offline_bucket,
                offline_prefix=store.offline_prefix,
                online_table=store.table,
                worker_type=group.batch.worker_type,
                number_of_workers=group.batch.number_of_workers,
                materialization_schedule=group.materialization_schedule,
            )
            cdk.Tags.of(self.batch[group.name]).add("team", group.owner)


def _days(days: int | None) -> cdk.Duration | None:
    return durations.days(days) if days is not None else None
