"""Feature group definitions: the registry model that the runtime, the construct and the
pipelines share.

A feature group is one entity key plus an ordered list of typed features. The order is
part of the schema: the online codec stores values positionally, so reordering features
is a new schema version (and a new fingerprint).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lambdas.common.errors import InputError, Problem

# Group names become DynamoDB key prefixes, Glue table names and Hive partition values,
# so they are restricted to the intersection of what all three accept.
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
_NAME_RE = re.compile(NAME_PATTERN)

DEFAULT_ONLINE_TTL_SECONDS = 30 * 24 * 3600


class Dtype(StrEnum):
    INT64 = "int64"
    FLOAT64 = "float64"
    STRING = "string"
    BOOL = "bool"


class Feature(BaseModel):
    """One feature: its name, type, freshness bound and missing-value policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    dtype: Dtype
    # None means the value never goes stale (e.g. a static attribute of the entity).
    max_age_seconds: Annotated[int, Field(gt=0)] | None = None
    allow_nan: bool = False
    allow_null: bool = True
    description: str = ""


class FeatureGroup(BaseModel):
    """A versioned feature group definition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    entity_key: Annotated[str, Field(pattern=NAME_PATTERN)]
    features: Annotated[tuple[Feature, ...], Field(min_length=1)]
    schema_version: Annotated[int, Field(ge=1)] = 1
    owner_team: Annotated[str, Field(min_length=1)]
    # Bumped when the code that computes the features changes without a schema change;
    # part of the fingerprint so training/serving skew from a new transformation shows.
    transformation_version: Annotated[str, Field(min_length=1)] = "1"
    event_time_field: Annotated[str, Field(pattern=NAME_PATTERN)] = "event_time"
    # Only for garbage collection of dead entities; freshness is max_age_seconds.
    online_ttl_seconds: Annotated[int, Field(gt=0)] = DEFAULT_ONLINE_TTL_SECONDS
    description: str = ""

    @field_validator("features")
    @classmethod
    def _unique_feature_names(cls, features: tuple[Feature, ...]) -> tuple[Feature, ...]:
        counts = Counter(f.name for f in features)
        duplicates = sorted(name for name, n in counts.items() if n > 1)
        if duplicates:
            raise ValueError(f"duplicate feature names {duplicates}; each feature name must be unique")
        return features

    @model_validator(mode="after")
    def _reserved_names_not_features(self) -> FeatureGroup:
        clashes = {self.entity_key, self.event_time_field} & {f.name for f in self.features}
        if clashes:
            raise ValueError(
                f"feature names {sorted(clashes)} clash with the entity key or event time field; rename them"
            )
        return self

    @cached_property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @cached_property
    def feature_index(self) -> dict[str, int]:
        return {f.name: i for i, f in enumerate(self.features)}

    @cached_property
    def by_name(self) -> dict[str, Feature]:
        return {f.name: f for f in self.features}

    @cached_property
    def fingerprint(self) -> str:
        """Stable hash of everything that changes how a stored value must be read."""
        canonical = {
            "name": self.name,
            "entity_key": self.entity_key,
            "schema_version": self.schema_version,
            "transformation_version": self.transformation_version,
            "features": [[f.name, f.dtype.value] for f in self.features],
        }
        blob = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def feature(self, name: str) -> Feature:
        try:
            return self.by_name[name]
        except KeyError:
            raise InputError.single(
                f"features.{name}",
                f"unknown feature in group '{self.name}'; known features: {', '.join(self.feature_names)}",
            ) from None

    def select(self, names: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
        """Validate a requested feature subset; None means every feature in schema order."""
        if names is None:
            return self.feature_names
        unknown = [n for n in names if n not in self.by_name]
        if unknown:
            raise InputError(
                [Problem(f"features.{n}", f"unknown feature in group '{self.name}'") for n in unknown],
                source=f"feature group {self.name}",
            )
        return tuple(names)

    def to_json(self) -> str:
        return self.model_dump_json()


class RegistrySource(Protocol):
    """Anything that resolves a group name to its definition (``Registry``, ``TableRegistry``)."""

    def get(self, name: str) -> FeatureGroup: ...


class Registry:
    """The set of feature groups the runtime knows, looked up by name."""

    def __init__(self, groups: list[FeatureGroup] | tuple[FeatureGroup, ...] = ()) -> None:
        self._groups: dict[str, FeatureGroup] = {}
        for group in groups:
            if group.name in self._groups:
                raise InputError.single(f"feature_groups.{group.name}", "defined more than once")
            self._groups[group.name] = group

    def get(self, name: str) -> FeatureGroup:
        try:
            return self._groups[name]
        except KeyError:
            known = ", ".join(sorted(self._groups)) or "none"
            raise InputError.single(
                "group", f"unknown feature group '{name}'; registered groups: {known}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._groups

    def __iter__(self) -> Iterator[FeatureGroup]:
        return iter(self._groups.values())

    def __len__(self) -> int:
        return len(self._groups)

    def add(self, group: FeatureGroup) -> None:
        self._groups[group.name] = group

    def to_json(self) -> str:
        return json.dumps([json.loads(g.to_json()) for g in self._groups.values()], sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Registry:
        return cls([parse_group(item) for item in json.loads(text)])


def parse_group(data: Any) -> FeatureGroup:
    """Validate a group definition, turning pydantic errors into an InputError."""
    from pydantic import ValidationError

    try:
        return FeatureGroup.model_validate(data)
    except ValidationError as exc:
        name = data.get("name", "?") if isinstance(data, dict) else "?"
        raise InputError(
            [Problem(".".join(str(p) for p in err["loc"]), err["msg"]) for err in exc.errors()],
            source=f"feature group {name}",
        ) from None


def is_valid_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))
