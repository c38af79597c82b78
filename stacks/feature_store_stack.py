"""Feature store stack: online/offline stores for every feature group in the config, and its pipelines."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.feature_store import FeatureStore
from lambdas.feature_store.registry import Feature as RegistryFeature
from lambdas.feature_store.registry import FeatureGroup as RegistryGroup
from stacks.config.models import FeatureGroup, PlatformConfig, duration_seconds
from stacks.foundation_stack import FoundationStack


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


class FeatureStoreStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        foundation: FoundationStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        groups = [registry_group(g) for g in config.feature_groups]
        offline = config.feature_store.offline
        self.feature_store = FeatureStore(
            self,
            "FeatureStore",
            feature_groups=groups,
            key=foundation.data_key,
            glue_database_name=f"{config.name.replace('-', '_')}_feature_store",
            alarm_topic=foundation.alarm_topic,
            ingestion_batch_size=config.feature_store.ingestion_batch_size,
            infrequent_access_after=cdk.Duration.days(offline.infrequent_access_after_days),
            glacier_after=_days(offline.glacier_after_days),
            expire_after=_days(offline.expire_after_days),
        )


def _days(days: int | None) -> cdk.Duration | None:
    return cdk.Duration.days(days) if days is not None else None
