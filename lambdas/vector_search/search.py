"""Search one or more indices: approximate k-NN with oversampling, exact re-rank, merge by score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.common.errors import InputError
from lambdas.vector_search.http_client import OpenSearchClient
from lambdas.vector_search.index_spec import CHUNK_INDEX_FIELD, DOC_ID_FIELD, TEXT_FIELD, IndexSpec
from lambdas.vector_search.query import build_knn_query
from lambdas.vector_search.rerank import Hit, candidates_from_response, merge_top_k, rerank


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    candidates: int


def check_comparable(specs: Sequence[IndexSpec]) -> None:
    """Scores only merge meaningfully when every index uses the same similarity and dimension."""
    spaces = {str(s.space_type) for s in specs}
    if len(spaces) > 1:
        raise InputError.single(
            "indices", f"indices use different space types {sorted(spaces)}; search them separately"
        )
    dimensions = {s.dimension for s in specs}
    if len(dimensions) > 1:
        raise InputError.single("indices", f"indices have different dimensions {sorted(dimensions)}")


def search(
    client: OpenSearchClient,
    specs: Sequence[IndexSpec],
    vector: Sequence[float],
    *,
    k: int,
    oversample: int,
    filters: Mapping[str, Any] | None = None,
) -> SearchResult:
    check_comparable(specs)
    # Build every query first so a bad filter on any index fails before anything is sent.
    queries = [
        (spec, build_knn_query(spec, vector, k=k, oversample=oversample, filters=filters)) for spec in specs
    ]
    per_index: list[list[Hit]] = []
    candidates = 0
    for spec, body in queries:
        response = client.request("POST", f"/{spec.name}/_search", body)
        found = candidates_from_response(spec.name, response.body or {}, spec.vector_field)
        candidates += len(found)
        per_index.append(rerank(spec.space_type, vector, found)[:k])
    return SearchResult(merge_top_k(per_index, k), candidates)


def hit_view(hit: Hit) -> dict[str, Any]:
    source = dict(hit.source)
    return {
        "index": hit.index,
        "id": hit.id,
        "score": hit.score,
        "doc_id": source.pop(DOC_ID_FIELD, None),
        "chunk_index": source.pop(CHUNK_INDEX_FIELD, None),
        "text": source.pop(TEXT_FIELD, None),
        "metadata": source,
    }
