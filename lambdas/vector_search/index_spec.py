"""The declarative description of one k-NN index, validated before anything reaches OpenSearch.

The spec is the single source of truth for the index custom resource, the embedding pipeline
and the search function, so each of them refuses the same bad combinations with the same words.
"""

from __future__ import annotations

import re
from enum import StrEnum
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lambdas.common.errors import InputError, Problem


class Engine(StrEnum):
    FAISS = "faiss"
    LUCENE = "lucene"


class SpaceType(StrEnum):
    L2 = "l2"
    INNER_PRODUCT = "innerproduct"
    COSINE = "cosinesimil"


class FieldType(StrEnum):
    KEYWORD = "keyword"
    TEXT = "text"
    INTEGER = "integer"
    LONG = "long"
    FLOAT = "float"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    DATE = "date"


NUMERIC_TYPES = frozenset({FieldType.INTEGER, FieldType.LONG, FieldType.FLOAT, FieldType.DOUBLE})
RANGE_TYPES = NUMERIC_TYPES | {FieldType.DATE}

# Fields the pipeline writes itself; metadata may not shadow them.
DOC_ID_FIELD = "doc_id"
CHUNK_INDEX_FIELD = "chunk_index"
TEXT_FIELD = "text"
RESERVED_FIELDS = frozenset({DOC_ID_FIELD, CHUNK_INDEX_FIELD, TEXT_FIELD})

ENGINE_SPACES: dict[Engine, frozenset[SpaceType]] = {
    # faiss rejects cosinesimil on the OpenSearch versions this platform targets.
    Engine.FAISS: frozenset({SpaceType.L2, SpaceType.INNER_PRODUCT}),
    Engine.LUCENE: frozenset({SpaceType.L2, SpaceType.INNER_PRODUCT, SpaceType.COSINE}),
}

MAX_DIMENSION = 16_000
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,200}$")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class HnswParameters(BaseModel):
    """HNSW graph parameters.

    Defaults chosen with bench/vector.py (faiss HNSW, 100,000 random 768-d vectors, the hard
    case): m=48 / ef_construction=256 reaches recall@10 0.96 at ef_search=768, while m=16
    stays at 0.76 even at ef_search=512 and m=32 at 0.89 (docs/vector-search.md has the table).
    The graph costs about 8*m bytes per vector on top of the vector itself (+12 % at 768-d).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    m: int = Field(default=48, ge=2, le=100)
    ef_construction: int = Field(default=256, ge=2, le=4096)
    ef_search: int = Field(default=768, ge=2, le=10_000)


class Lifecycle(BaseModel):
    """Ages (days since index creation) at which the ISM policy moves the index on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    warm_after_days: int | None = Field(default=None, ge=1)
    cold_after_days: int | None = Field(default=None, ge=1)
    delete_after_days: int | None = Field(default=None, ge=1)
    timestamp_field: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Lifecycle:
        ages = [
            (name, age)
            for name, age in (
                ("warm_after_days", self.warm_after_days),
                ("cold_after_days", self.cold_after_days),
                ("delete_after_days", self.delete_after_days),
            )
            if age is not None
        ]
        for (first, a), (second, b) in pairwise(ages):
            if b <= a:
                raise ValueError(f"{second} ({b}) must be later than {first} ({a})")
        if self.cold_after_days is not None and self.timestamp_field is None:
            raise ValueError(
                "cold storage needs timestamp_field: a date metadata field cold migration keys on"
            )
        return self

    @property
    def enabled(self) -> bool:
        return any(
            age is not None for age in (self.warm_after_days, self.cold_after_days, self.delete_after_days)
        )


class IndexSpec(BaseModel):
    """One k-NN index. `name` is the alias clients use; the physical index carries a suffix."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    dimension: int = Field(ge=1, le=MAX_DIMENSION)
    engine: Engine
    space_type: SpaceType
    hnsw: HnswParameters = HnswParameters()
    shards: int = Field(default=1, ge=1, le=1024)
    replicas: int = Field(default=1, ge=0, le=15)
    vector_field: str = "embedding"
    metadata: dict[str, FieldType] = Field(default_factory=dict)
    lifecycle: Lifecycle = Lifecycle()
    on_incompatible_change: Literal["refuse", "new_index_and_alias_swap"] = "refuse"

    @field_validator("name")
    @classmethod
    def _index_name(cls, value: str) -> str:
        if not _INDEX_NAME.match(value):
            raise ValueError(
                "index names are lowercase letters, digits, '-' and '_', starting with a letter or digit"
            )
        return value

    @field_validator("vector_field")
    @classmethod
    def _vector_field(cls, value: str) -> str:
        if not _FIELD_NAME.match(value) or value in RESERVED_FIELDS:
            raise ValueError(f"'{value}' is not a usable field name (reserved: {sorted(RESERVED_FIELDS)})")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_names(cls, value: dict[str, FieldType]) -> dict[str, FieldType]:
        for name in value:
            if not _FIELD_NAME.match(name):
                raise ValueError(f"metadata field '{name}' must match {_FIELD_NAME.pattern}")
            if name in RESERVED_FIELDS:
                raise ValueError(f"metadata field '{name}' is reserved for the pipeline")
        return value

    @model_validator(mode="after")
    def _engine_accepts_space(self) -> IndexSpec:
        allowed = ENGINE_SPACES[self.engine]
        if self.space_type not in allowed:
            hint = " use engine 'lucene' for cosine similarity" if self.space_type is SpaceType.COSINE else ""
            raise ValueError(
                f"engine '{self.engine}' does not support space_type '{self.space_type}'"
                f" (supported: {', '.join(sorted(allowed))});{hint}"
            )
        if self.vector_field in self.metadata:
            raise ValueError(f"vector_field '{self.vector_field}' is also declared as a metadata field")
        ts = self.lifecycle.timestamp_field
        if ts is not None and self.metadata.get(ts) is not FieldType.DATE:
            raise ValueError(f"lifecycle.timestamp_field '{ts}' must be a metadata field of type date")
        return self

    def field_types(self) -> dict[str, FieldType]:
        """Every filterable field with its type, the pipeline's own fields included."""
        return {DOC_ID_FIELD: FieldType.KEYWORD, CHUNK_INDEX_FIELD: FieldType.INTEGER, **self.metadata}


def problems_from(exc: ValidationError, default_field: str = "spec") -> list[Problem]:
    """One Problem per pydantic error, without pydantic's "Value error, " prefix."""
    return [
        Problem(
            ".".join(str(p) for p in err["loc"]) or default_field, err["msg"].removeprefix("Value error, ")
        )
        for err in exc.errors()
    ]


def parse_index_spec(raw: object, source: str = "index spec") -> IndexSpec:
    """Validate a raw mapping into an IndexSpec, turning pydantic errors into an InputError."""
    try:
        return IndexSpec.model_validate(raw)
    except ValidationError as exc:
        raise InputError(problems_from(exc), source) from exc
