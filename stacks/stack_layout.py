"""Which stacks a platform config makes, in the order they are created, and how synth splits them.

Pure: no CDK. The Stage builds from this layout, and parallel synthesis uses it to give each
worker process its share of the shard stacks and to put the merged cloud assembly back in
creation order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stacks.config.models import ModelConfig, PlatformConfig

ShardKind = Literal["Serving", "Training", "Monitoring"]


@dataclass(frozen=True)
class Shard:
    """One shard stack: `kind-number` holding `models`; `position` counts shards across kinds."""

    kind: ShardKind
    number: int
    models: tuple[ModelConfig, ...]
    position: int

    @property
    def construct_id(self) -> str:
        return f"{self.kind}-{self.number}"


@dataclass(frozen=True)
class SynthPart:
    """Worker `index` of `count` builds the unsharded stacks and every `count`-th shard stack.

    The unsharded stacks (foundation, feature store, vector search) are built by every worker,
    since the shards refer to them; the merge keeps one copy and checks the others are equal.
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"synth part {self.index} of {self.count}: index must be in 0..count-1")

    def owns(self, shard: Shard) -> bool:
        return shard.position % self.count == self.index


def _chunks(models: list[ModelConfig], size: int) -> list[tuple[ModelConfig, ...]]:
    return [tuple(models[start : start + size]) for start in range(0, len(models), size)]


def shards(config: PlatformConfig) -> list[Shard]:
    """Serving, training and monitoring shards, in creation order."""
    sharding = config.sharding
    groups: list[tuple[ShardKind, list[tuple[ModelConfig, ...]]]] = [
        ("Serving", _chunks(list(config.models), sharding.models_per_serving_stack)),
        (
            "Training",
            _chunks([m for m in config.models if m.training is not None], sharding.models_per_training_stack),
        ),
        # The first monitoring shard also holds the platform-wide cost and budget resources,
        # so there is one even when the config has no model.
        ("Monitoring", _chunks(list(config.models), sharding.models_per_monitoring_stack) or [()]),
    ]
    layout: list[Shard] = []
    for kind, chunks in groups:
        for number, models in enumerate(chunks, start=1):
            layout.append(Shard(kind, number, models, len(layout)))
    return layout


def stack_ids(config: PlatformConfig) -> list[str]:
    """Construct ids of one environment's stacks, in creation order."""
    unsharded_tail = ["VectorSearch"] if config.vector_indexes else []
    return ["Foundation", "FeatureStore", *(s.construct_id for s in shards(config)), *unsharded_tail]
