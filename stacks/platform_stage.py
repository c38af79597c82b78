"""One Stage per environment: the domain stacks of the platform, wired to the foundation."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.config.models import Environment, PlatformConfig
from stacks.feature_store_stack import FeatureStoreStack
from stacks.foundation_stack import FoundationStack


class PlatformStage(cdk.Stage):
    """All stacks of one environment, named `<environment>-<Domain>`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        environment: Environment,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=environment.account, region=environment.region),
        )
        self.config = config
        self.environment = environment
        self.foundation = FoundationStack(
            self,
            "Foundation",
            config=config,
            environment=environment,
            description=f"{config.name} foundation: keys, network, buckets, alarm topic",
        )
        self.feature_store = FeatureStoreStack(
            self,
            "FeatureStore",
            config=config,
            foundation=self.foundation,
            description=f"{config.name} feature store: online/offline stores, registry, ingestion, pipelines",
        )
        cdk.Tags.of(self).add("platform", config.name)
        cdk.Tags.of(self).add("environment", environment.name)
