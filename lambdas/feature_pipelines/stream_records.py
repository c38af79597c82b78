"""From windowed feature values to feature store records, and the check that they fit.

The streaming spec names a feature group registered in the feature store; every windowed
feature must be one of its features with a type ``put_records`` accepts, and the group's
other features are written as null (a record is the whole feature vector).
"""

from __future__ import annotations

from typing import Any

from lambdas.common.errors import InputError, Problem
from lambdas.feature_pipelines.window_spec import Aggregation, StreamingFeatureSpec
from lambdas.feature_pipelines.windows import FeatureValues
from lambdas.feature_store.registry import Dtype, FeatureGroup

_ALLOWED: dict[Aggregation, frozenset[Dtype]] = {
    Aggregation.COUNT: frozenset({Dtype.INT64, Dtype.FLOAT64}),
    Aggregation.DISTINCT_COUNT: frozenset({Dtype.INT64, Dtype.FLOAT64}),
    Aggregation.SUM: frozenset({Dtype.FLOAT64}),
    Aggregation.MEAN: frozenset({Dtype.FLOAT64}),
}


def check_group(spec: StreamingFeatureSpec, group: FeatureGroup) -> None:
    """Raise `InputError` naming every windowed feature the group cannot store."""
    problems: list[Problem] = []
    for feature in spec.features:
        declared = group.by_name.get(feature.name)
        if declared is None:
            problems.append(Problem(f"features.{feature.name}", f"not a feature of group '{group.name}'"))
            continue
        allowed = _ALLOWED[feature.aggregation]
        if declared.dtype not in allowed:
            wanted = " or ".join(sorted(d.value for d in allowed))
            problems.append(
                Problem(
                    f"features.{feature.name}",
                    f"{feature.aggregation.value} needs dtype {wanted}, group declares {declared.dtype.value}",
                )
            )
        if feature.aggregation is Aggregation.MEAN and not declared.allow_null:
            problems.append(
                Problem(f"features.{feature.name}", "a mean over an empty window is null; set allow_null")
            )
    computed = {f.name for f in spec.features}
    for stored in group.features:
        if stored.name not in computed and not stored.allow_null:
            problems.append(
                Problem(f"features.{stored.name}", "not computed by the stream and allow_null is false")
            )
    if problems:
        raise InputError(problems, source=f"streaming pipeline for feature group {group.name}")


def feature_record(group: FeatureGroup, values: FeatureValues, event_time_ms: int) -> dict[str, Any]:
    """The record ``put_records`` takes: entity key, event time (epoch seconds) and values."""
    record: dict[str, Any] = dict(values.values)
    record[group.entity_key] = values.entity
    record[group.event_time_field] = event_time_ms / 1000
    return record
