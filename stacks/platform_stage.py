"""One Stage per environment: the domain stacks of the platform, wired to the foundation."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.config.models import Environment, PlatformConfig
from stacks.feature_store_stack import FeatureStoreStack
from stacks.foundation_stack import FoundationStack
from stacks.monitoring_stack import MonitoringStack
from stacks.serving_stack import ServingStack
from stacks.training_stack import TrainingStack
from stacks.vector_search_stack import VectorSearchStack


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
            environment=environment.name,
            description=f"{config.name} feature store: online/offline stores, registry, ingestion, pipelines",
        )
        size = config.sharding.models_per_serving_stack
        self.serving = [
            ServingStack(
                self,
                f"Serving-{shard + 1}",
                config=config,
                environment=environment.name,
                models=config.models[start : start + size],
                shard=shard + 1,
                foundation=self.foundation,
                description=f"{config.name} serving shard {shard + 1}: endpoints and prediction API",
            )
            for shard, start in enumerate(range(0, len(config.models), size))
        ]
        training_size = config.sharding.models_per_training_stack
        trained = [m for m in config.models if m.training is not None]
        self.training = [
            TrainingStack(
                self,
                f"Training-{shard + 1}",
                config=config,
                environment=environment.name,
                models=trained[start : start + training_size],
                foundation=self.foundation,
                feature_store=self.feature_store,
                description=f"{config.name} training shard {shard + 1}: spot training and retraining pipelines",
            )
            for shard, start in enumerate(range(0, len(trained), training_size))
        ]
        monitoring_size = config.sharding.models_per_monitoring_stack
        self.monitoring = [
            MonitoringStack(
                self,
                f"Monitoring-{shard + 1}",
                config=config,
                environment=environment.name,
                models=config.models[start : start + monitoring_size],
                foundation=self.foundation,
                platform_wide=shard == 0,
                description=f"{config.name} monitoring shard {shard + 1}: drift, performance, A/B analysis"
                + (", cost, budgets" if shard == 0 else ""),
            )
            for shard, start in enumerate(range(0, max(len(config.models), 1), monitoring_size))
        ]
        if config.vector_indexes:
            self.vector_search = VectorSearchStack(
                self,
                "VectorSearch",
                config=config,
                environment=environment.name,
                foundation=self.foundation,
                description=f"{config.name} vector search: OpenSearch k-NN domain, indices, embedding, search",
            )
        cdk.Tags.of(self).add("platform", config.name)
        cdk.Tags.of(self).add("environment", environment.name)
