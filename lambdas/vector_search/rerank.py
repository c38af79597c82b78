"""Exact re-ranking of approximate candidates and merging of results across indices.

Scores use OpenSearch's own scale for each space type, so a re-ranked score reads like the
engine's score, and indices with the same space type merge by score directly:
l2: 1 / (1 + ||q - x||^2); innerproduct: 1 + q.x when q.x >= 0, else 1 / (1 - q.x);
cosinesimil: (1 + cos(q, x)) / 2 (lucene's scale).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lambdas.common.errors import InputError
from lambdas.vector_search.index_spec import SpaceType

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Candidate:
    index: str
    id: str
    vector: Sequence[float]
    source: dict[str, Any]


@dataclass(frozen=True)
class Hit:
    index: str
    id: str
    score: float
    source: dict[str, Any]


def exact_scores(space_type: SpaceType, query: FloatArray, vectors: FloatArray) -> FloatArray:
    """Scores of each row of `vectors` against `query`, higher is more similar."""
    if vectors.shape[0] == 0:
        return np.empty(0)
    if space_type is SpaceType.L2:
        squared = np.sum((vectors - query) ** 2, axis=1)
        return 1.0 / (1.0 + squared)
    if space_type is SpaceType.INNER_PRODUCT:
        dots = vectors @ query
        return np.where(dots >= 0, 1.0 + dots, 1.0 / (1.0 - np.minimum(dots, 0.0)))
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(query)
    # A zero vector has no direction; treat it as orthogonal rather than dividing by zero.
    cosine = np.divide(vectors @ query, norms, out=np.zeros(vectors.shape[0]), where=norms > 0)
    return (1.0 + cosine) / 2.0


def rerank(space_type: SpaceType, query: Sequence[float], candidates: Sequence[Candidate]) -> list[Hit]:
    """Candidates ordered by exact score (ties by index then id, so results are reproducible)."""
    if not candidates:
        return []
    q = np.asarray(query, dtype=np.float64)
    dimension = q.shape[0]
    for candidate in candidates:
        if len(candidate.vector) != dimension:
            raise InputError.single(
                f"{candidate.index}/{candidate.id}",
                f"stored vector has dimension {len(candidate.vector)}, the query has {dimension}",
            )
    matrix = np.asarray([c.vector for c in candidates], dtype=np.float64)
    scores = exact_scores(space_type, q, matrix)
    hits = [Hit(c.index, c.id, float(s), c.source) for c, s in zip(candidates, scores, strict=True)]
    return sorted(hits, key=lambda h: (-h.score, h.index, h.id))


def merge_top_k(results: Iterable[Sequence[Hit]], k: int) -> list[Hit]:
    """Top k over several indices' re-ranked hits, by score; one hit per (index, id)."""
    best: dict[tuple[str, str], Hit] = {}
    for hits in results:
        for hit in hits:
            key = (hit.index, hit.id)
            if key not in best or hit.score > best[key].score:
                best[key] = hit
    return sorted(best.values(), key=lambda h: (-h.score, h.index, h.id))[:k]


def candidates_from_response(index: str, response: dict[str, Any], vector_field: str) -> list[Candidate]:
    """Candidates from a `_search` response; the vector is taken out of the returned source."""
    candidates = []
    for hit in response.get("hits", {}).get("hits", []):
        source = dict(hit.get("_source", {}))
        vector = source.pop(vector_field, None)
        if vector is None:
            raise InputError.single(f"{index}/{hit.get('_id')}", f"hit has no '{vector_field}' in its source")
        candidates.append(Candidate(index, str(hit["_id"]), vector, source))
    return candidates
