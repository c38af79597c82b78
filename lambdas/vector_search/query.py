"""k-NN query bodies with metadata filters and oversampling.

The engine returns `k x oversample` approximate candidates; the search function re-ranks them
exactly and keeps the top k, which recovers most of what HNSW misses at a given ef_search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lambdas.common.errors import InputError, Problem
from lambdas.vector_search.documents import validate_vector
from lambdas.vector_search.index_spec import RANGE_TYPES, FieldType, IndexSpec

JsonDict = dict[str, Any]

# OpenSearch refuses k above 10,000 in a knn clause.
MAX_CANDIDATES = 10_000
RANGE_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})


def _clause(spec: IndexSpec, name: str, value: Any, field_types: Mapping[str, FieldType]) -> JsonDict:
    field_type = field_types.get(name)
    if field_type is None:
        raise InputError.single(
            f"filters.{name}",
            f"is not a mapped field of index '{spec.name}'; filterable fields: {sorted(field_types)}",
        )
    if isinstance(value, dict):
        unknown = set(value) - RANGE_OPERATORS
        if unknown or not value:
            raise InputError.single(
                f"filters.{name}", f"a range takes only {sorted(RANGE_OPERATORS)}, got {sorted(value)}"
            )
        if field_type not in RANGE_TYPES:
            raise InputError.single(
                f"filters.{name}", f"range filters need a numeric or date field, not {field_type}"
            )
        return {"range": {name: dict(value)}}
    if isinstance(value, list):
        if not value:
            raise InputError.single(
                f"filters.{name}", "an empty list matches nothing; remove the filter instead"
            )
        return {"terms": {name: list(value)}}
    if field_type is FieldType.TEXT:
        return {"match": {name: value}}
    return {"term": {name: value}}


def build_filter(spec: IndexSpec, filters: Mapping[str, Any]) -> JsonDict | None:
    """A bool filter from {field: value | [values] | {gte/lte/...}}; every field must be mapped."""
    if not filters:
        return None
    field_types = spec.field_types()
    problems: list[Problem] = []
    clauses: list[JsonDict] = []
    for name, value in sorted(filters.items()):
        try:
            clauses.append(_clause(spec, name, value, field_types))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return {"bool": {"filter": clauses}}


def candidate_count(k: int, oversample: int) -> int:
    return min(k * oversample, MAX_CANDIDATES)


def build_knn_query(
    spec: IndexSpec,
    vector: Sequence[float],
    *,
    k: int,
    oversample: int,
    filters: Mapping[str, Any] | None = None,
) -> JsonDict:
    """The body of `POST /<alias>/_search`.

    The filter goes inside the knn clause (efficient filtering in faiss and lucene), so the
    engine returns k matching neighbours rather than k neighbours filtered afterwards.
    """
    if k < 1:
        raise InputError.single("k", f"must be at least 1, got {k}")
    if oversample < 1:
        raise InputError.single("oversample", f"must be at least 1, got {oversample}")
    query_vector = validate_vector(vector, spec.dimension, "vector")
    candidates = candidate_count(k, oversample)
    knn: JsonDict = {"vector": query_vector, "k": candidates}
    bool_filter = build_filter(spec, filters or {})
    if bool_filter is not None:
        knn["filter"] = bool_filter
    return {"size": candidates, "query": {"knn": {spec.vector_field: knn}}}
