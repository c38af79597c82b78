"""Training/serving consistency: what a model trained on versus what serving would read.

A model's metadata carries ``training_schema(...)`` (JSON-able): per feature group the
schema fingerprint, schema and transformation versions and the (name, dtype) of each
feature it used. ``check_consistency`` compares that with the live registry and returns
every difference with its reason; an empty list means serving reads what training saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from lambdas.common.errors import InputError
from lambdas.feature_store.registry import Dtype, FeatureGroup, RegistrySource


class DifferenceKind(StrEnum):
    GROUP_MISSING = "group_missing"
    FEATURE_MISSING = "feature_missing"
    DTYPE_CHANGED = "dtype_changed"
    SCHEMA_VERSION_CHANGED = "schema_version_changed"
    TRANSFORMATION_CHANGED = "transformation_version_changed"
    ENTITY_KEY_CHANGED = "entity_key_changed"
    FINGERPRINT_CHANGED = "fingerprint_changed"


@dataclass(frozen=True)
class Difference:
    group: str
    feature: str | None
    kind: DifferenceKind
    reason: str


class TrainedFeature(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    dtype: Dtype


class TrainedGroup(BaseModel):
    model_config = ConfigDict(frozen=True)
    group: str
    entity_key: str
    schema_version: int
    transformation_version: str
    fingerprint: str
    features: tuple[TrainedFeature, ...]


class TrainingSchema(BaseModel):
    model_config = ConfigDict(frozen=True)
    groups: tuple[TrainedGroup, ...]


def training_schema(used: Mapping[FeatureGroup, Sequence[str] | None]) -> TrainingSchema:
    """Snapshot of the groups and features a model was trained on (None: all features)."""
    groups = []
    for group, names in used.items():
        selected = group.select(list(names) if names is not None else None)
        groups.append(
            TrainedGroup(
                group=group.name,
                entity_key=group.entity_key,
                schema_version=group.schema_version,
                transformation_version=group.transformation_version,
                fingerprint=group.fingerprint,
                features=tuple(TrainedFeature(name=n, dtype=group.by_name[n].dtype) for n in selected),
            )
        )
    return TrainingSchema(groups=tuple(groups))


def check_consistency(
    training: TrainingSchema | Mapping[str, Any], serving: RegistrySource
) -> list[Difference]:
    """Differences between a training schema and the serving registry (``.get(name)``)."""
    schema = training if isinstance(training, TrainingSchema) else TrainingSchema.model_validate(training)
    differences: list[Difference] = []
    for trained in schema.groups:
        try:
            live = serving.get(trained.group)
        except InputError:
            differences.append(
                Difference(
                    trained.group, None, DifferenceKind.GROUP_MISSING, "group is not in the serving registry"
                )
            )
            continue
        differences.extend(_group_differences(trained, live))
    return differences


def _group_differences(trained: TrainedGroup, live: FeatureGroup) -> list[Difference]:
    out: list[Difference] = []
    g = trained.group
    if live.entity_key != trained.entity_key:
        out.append(
            Difference(
                g,
                None,
                DifferenceKind.ENTITY_KEY_CHANGED,
                f"trained keyed by '{trained.entity_key}', serving keyed by '{live.entity_key}'",
            )
        )
    if live.schema_version != trained.schema_version:
        out.append(
            Difference(
                g,
                None,
                DifferenceKind.SCHEMA_VERSION_CHANGED,
                f"trained on schema version {trained.schema_version}, serving reads version {live.schema_version}",
            )
        )
    if live.transformation_version != trained.transformation_version:
        out.append(
            Difference(
                g,
                None,
                DifferenceKind.TRANSFORMATION_CHANGED,
                f"trained on transformation version {trained.transformation_version}, "
                f"serving values come from version {live.transformation_version}",
            )
        )
    for feature in trained.features:
        current = live.by_name.get(feature.name)
        if current is None:
            out.append(
                Difference(
                    g, feature.name, DifferenceKind.FEATURE_MISSING, "feature no longer exists in serving"
                )
            )
        elif current.dtype != feature.dtype:
            out.append(
                Difference(
                    g,
                    feature.name,
                    DifferenceKind.DTYPE_CHANGED,
                    f"trained as {feature.dtype.value}, serving returns {current.dtype.value}",
                )
            )
    if not out and live.fingerprint != trained.fingerprint:
        # Only features the model does not use changed (e.g. one was added); reported so
        # the difference is visible, although the model's own inputs are unaffected.
        out.append(
            Difference(
                g,
                None,
                DifferenceKind.FINGERPRINT_CHANGED,
                f"group fingerprint {trained.fingerprint} became {live.fingerprint}; "
                "features this model does not use changed",
            )
        )
    return out


def check_items(group: FeatureGroup, fingerprints: Mapping[str, str]) -> list[Difference]:
    """Online items (entity id → stored fingerprint) that serving cannot read."""
    return [
        Difference(
            group.name,
            None,
            DifferenceKind.FINGERPRINT_CHANGED,
            f"item for entity '{entity}' was written under fingerprint {fp}, registry has {group.fingerprint}",
        )
        for entity, fp in fingerprints.items()
        if fp != group.fingerprint
    ]
