"""Declarations of batch (daily) features and the source-schema check, without Spark.

A batch feature group is computed by one Glue job: the declared aggregations of a source
table per entity and UTC event date. Each aggregation produces one feature of the group,
so the spec must cover the group's features exactly, with compatible types. The source
check works on Spark's ``DataFrame.dtypes`` strings so it is testable without a JVM and
fails the job with every missing or mistyped column named.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lambdas.common.errors import InputError, Problem
from lambdas.feature_pipelines.validation import input_error_from
from lambdas.feature_store.registry import Dtype, FeatureGroup

INTEGRAL_TYPES = frozenset({"tinyint", "smallint", "int", "bigint"})
FRACTIONAL_TYPES = frozenset({"float", "double"})
TIMESTAMP_TYPES = frozenset({"timestamp", "timestamp_ntz"})
ENTITY_TYPES = frozenset({"string", *INTEGRAL_TYPES})


class BatchAggregation(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    DISTINCT_COUNT = "distinct_count"


class BatchFeature(BaseModel):
    """One feature: an aggregation of one source column per entity and event date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    aggregation: BatchAggregation
    # For count: None counts rows, a column counts its non-null values.
    column: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _column_present(self) -> BatchFeature:
        if self.aggregation is not BatchAggregation.COUNT and self.column is None:
            raise ValueError(f"a {self.aggregation.value} feature needs 'column' naming the source column")
        return self


class BatchFeatureSpec(BaseModel):
    """What a batch job reads and which features it computes for which group."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature_group: str = Field(min_length=1)
    entity_column: str = Field(min_length=1)
    event_time_column: str = Field(min_length=1)
    features: tuple[BatchFeature, ...] = Field(min_length=1)

    @classmethod
    def parse(cls, data: Mapping[str, Any], source: str = "batch feature spec") -> BatchFeatureSpec:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise input_error_from(exc, source) from exc


def _base_type(spark_type: str) -> str:
    return "decimal" if spark_type.startswith("decimal") else spark_type


def _is_numeric(spark_type: str) -> bool:
    base = _base_type(spark_type)
    return base in INTEGRAL_TYPES or base in FRACTIONAL_TYPES or base == "decimal"


def check_against_group(spec: BatchFeatureSpec, group: FeatureGroup) -> list[Problem]:
    """The spec produces exactly the group's features, each with a type the group accepts."""
    problems: list[Problem] = []
    if spec.feature_group != group.name:
        problems.append(
            Problem("feature_group", f"spec is for '{spec.feature_group}', group is '{group.name}'")
        )
    declared = {f.name: f for f in spec.features}
    for feature in group.features:
        batch = declared.get(feature.name)
        if batch is None:
            problems.append(Problem(f"features.{feature.name}", "feature of the group has no aggregation"))
            continue
        if batch.aggregation in (BatchAggregation.COUNT, BatchAggregation.DISTINCT_COUNT):
            allowed = {Dtype.INT64}
        elif batch.aggregation is BatchAggregation.MEAN:
            allowed = {Dtype.FLOAT64}
        else:
            allowed = {Dtype.INT64, Dtype.FLOAT64}
        if feature.dtype not in allowed:
            wanted = " or ".join(sorted(d.value for d in allowed))
            problems.append(
                Problem(
                    f"features.{feature.name}",
                    f"{batch.aggregation.value} produces {wanted}, the group declares {feature.dtype.value}",
                )
            )
    for name in declared.keys() - set(group.feature_names):
        problems.append(Problem(f"features.{name}", f"not a feature of group '{group.name}'"))
    return problems


def check_source_columns(
    dtypes: Mapping[str, str], spec: BatchFeatureSpec, group: FeatureGroup
) -> list[Problem]:
    """Every column the spec reads exists in the source with a usable type.

    `dtypes` maps column name to Spark's simple type string (``dict(df.dtypes)``).
    """
    problems: list[Problem] = []

    def need(column: str, allowed: str, ok: bool | None) -> None:
        if ok is None:
            problems.append(Problem(column, f"column is missing from the source (needed as {allowed})"))
        elif not ok:
            problems.append(Problem(column, f"column has type {dtypes[column]}, expected {allowed}"))

    def typed(column: str, test: Any) -> bool | None:
        return None if column not in dtypes else bool(test(dtypes[column]))

    need(
        spec.entity_column,
        "string or integer entity id",
        typed(spec.entity_column, lambda t: t in ENTITY_TYPES),
    )
    need(spec.event_time_column, "timestamp", typed(spec.event_time_column, lambda t: t in TIMESTAMP_TYPES))
    group_dtypes = {f.name: f.dtype for f in group.features}
    for feature in spec.features:
        if feature.column is None:
            continue
        if feature.aggregation in (BatchAggregation.COUNT, BatchAggregation.DISTINCT_COUNT):
            need(feature.column, "any type", typed(feature.column, lambda _t: True))
        elif group_dtypes.get(feature.name) is Dtype.INT64:
            # An int64 feature from sum/min/max must not silently truncate fractions.
            need(
                feature.column,
                f"integer (feature {feature.name} is int64)",
                typed(feature.column, lambda t: _base_type(t) in INTEGRAL_TYPES),
            )
        else:
            need(feature.column, "numeric", typed(feature.column, _is_numeric))
    return problems


def validate_batch_job(dtypes: Mapping[str, str], spec: BatchFeatureSpec, group: FeatureGroup) -> None:
    """Raise `InputError` naming every spec/group mismatch and missing or mistyped column."""
    problems = check_against_group(spec, group) + check_source_columns(dtypes, spec, group)
    if problems:
        raise InputError(problems, source=f"batch source for feature group {group.name}")
