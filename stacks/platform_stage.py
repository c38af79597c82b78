"""One Stage per environment: the domain stacks of the platform, wired to the foundation."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from stacks.config.models import Environment, PlatformConfig
from stacks.feature_store_stack import FeatureStoreStack
from stacks.foundation_stack import FoundationStack
from stacks.monitoring_stack import MonitoringStack
from stacks.serving_stack import ServingStack
from stacks.stack_layout import Shard, SynthPart, shards
from stacks.training_stack import TrainingStack
from stacks.vector_search_stack import VectorSearchStack


class PlatformStage(cdk.Stage):
    """All stacks of one environment, named `<environment>-<Domain>`.

    With `part`, only that worker's share of the shard stacks (see `stacks.stack_layout`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        environment: Environment,
        part: SynthPart | None = None,
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
        self.serving: list[ServingStack] = []
        self.training: list[TrainingStack] = []
        self.monitoring: list[MonitoringStack] = []
        for shard in shards(config):
            if part is not None and not part.owns(shard):
                continue
            self._add_shard(shard)
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

    def _add_shard(self, shard: Shard) -> None:
        config, name = self.config, self.environment.name
        models = list(shard.models)
        if shard.kind == "Serving":
            self.serving.append(
                ServingStack(
                    self,
                    shard.construct_id,
                    config=config,
                    environment=name,
                    models=models,
                    shard=shard.number,
                    foundation=self.foundation,
                    description=f"{config.name} serving shard {shard.number}: endpoints and prediction API",
                )
            )
        elif shard.kind == "Training":
            self.training.append(
                TrainingStack(
                    self,
                    shard.construct_id,
                    config=config,
                    environment=name,
                    models=models,
                    foundation=self.foundation,
                    feature_store=self.feature_store,
                    description=f"{config.name} training shard {shard.number}: "
                    "spot training and retraining pipelines",
                )
            )
        else:
            platform_wide = shard.number == 1
            self.monitoring.append(
                MonitoringStack(
                    self,
                    shard.construct_id,
                    config=config,
                    environment=name,
                    models=models,
                    foundation=self.foundation,
                    platform_wide=platform_wide,
                    description=f"{config.name} monitoring shard {shard.number}: drift, performance, A/B analysis"
                    + (", cost, budgets" if platform_wide else ""),
                )
            )
