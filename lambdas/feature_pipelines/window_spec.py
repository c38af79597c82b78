"""Declarations of windowed streaming features.

A pipeline reads one event source and keeps, per entity, time-bucketed partial aggregates.
Every window is a whole number of buckets, so a window "the last 1 h" is evaluated as the
last ``window_seconds / bucket_seconds`` buckets up to and including the bucket of the
entity's newest event (a sliding window with bucket resolution). The bucket width therefore
trades state size against how exactly the window edge is placed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lambdas.feature_pipelines.validation import input_error_from

_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# Bounds the per-entity state: buckets per window times fields must fit a DynamoDB item.
MAX_BUCKETS_PER_WINDOW = 1440


class Aggregation(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    DISTINCT_COUNT = "distinct_count"


class WindowedFeature(BaseModel):
    """One feature: an aggregation of one event field over the last `window_seconds`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME_PATTERN)
    aggregation: Aggregation
    field: str | None = Field(default=None, min_length=1)
    window_seconds: int = Field(gt=0)

    @model_validator(mode="after")
    def _field_matches_aggregation(self) -> WindowedFeature:
        if self.aggregation is Aggregation.COUNT and self.field is not None:
            raise ValueError("a count feature counts events and takes no field; remove 'field'")
        if self.aggregation is not Aggregation.COUNT and self.field is None:
            raise ValueError(f"a {self.aggregation.value} feature needs 'field' naming the event field")
        return self


class StreamingFeatureSpec(BaseModel):
    """Everything the stream consumer needs to turn events into feature records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature_group: str = Field(pattern=_NAME_PATTERN)
    entity_key: str = Field(min_length=1)
    event_id_field: str = Field(default="event_id", min_length=1)
    event_time_field: str = Field(default="event_time", min_length=1)
    bucket_seconds: int = Field(default=60, gt=0)
    allowed_lateness_seconds: int = Field(default=300, ge=0)
    max_future_skew_seconds: int = Field(default=300, ge=0)
    max_tracked_event_ids: int = Field(default=5000, gt=0)
    max_distinct_values: int = Field(default=2000, gt=0)
    features: tuple[WindowedFeature, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _windows_fit_buckets(self) -> StreamingFeatureSpec:
        names = [f.name for f in self.features]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"feature names must be unique; repeated: {', '.join(duplicates)}")
        for feature in self.features:
            if feature.window_seconds % self.bucket_seconds:
                raise ValueError(
                    f"feature {feature.name}: window_seconds {feature.window_seconds} is not a multiple "
                    f"of bucket_seconds {self.bucket_seconds}"
                )
            if feature.window_seconds // self.bucket_seconds > MAX_BUCKETS_PER_WINDOW:
                raise ValueError(
                    f"feature {feature.name}: window spans more than {MAX_BUCKETS_PER_WINDOW} buckets; "
                    "raise bucket_seconds"
                )
        return self

    @classmethod
    def parse(cls, data: Mapping[str, Any], source: str = "streaming feature spec") -> StreamingFeatureSpec:
        """Validate `data`; bad input raises `InputError` naming each field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise input_error_from(exc, source) from exc

    @property
    def bucket_ms(self) -> int:
        return self.bucket_seconds * 1000

    @property
    def lateness_ms(self) -> int:
        return self.allowed_lateness_seconds * 1000

    def window_buckets(self, feature: WindowedFeature) -> int:
        return feature.window_seconds // self.bucket_seconds

    @property
    def max_window_buckets(self) -> int:
        return max(self.window_buckets(f) for f in self.features)

    @property
    def numeric_fields(self) -> tuple[str, ...]:
        """Fields whose per-bucket count and sum are kept (sum and mean features)."""
        fields = {
            f.field
            for f in self.features
            if f.aggregation in (Aggregation.SUM, Aggregation.MEAN) and f.field is not None
        }
        return tuple(sorted(fields))

    @property
    def distinct_fields(self) -> tuple[str, ...]:
        fields = {f.field for f in self.features if f.aggregation is Aggregation.DISTINCT_COUNT and f.field}
        return tuple(sorted(fields))
