from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.common.errors import InputError
from lambdas.vector_search.index_spec import IndexSpec, SpaceType
from lambdas.vector_search.query import build_knn_query
from lambdas.vector_search.rerank import (
    Candidate,
    Hit,
    candidates_from_response,
    exact_scores,
    merge_top_k,
    rerank,
)


def test_knn_query_oversamples_and_puts_filters_inside_the_knn_clause(spec: IndexSpec) -> None:
    body = build_knn_query(
        spec,
        [1, 2, 3, 4],
        k=5,
        oversample=4,
        filters={"team": "risk", "year": {"gte": 2020}, "title": "fraud", "doc_id": ["a", "b"]},
    )
    assert body == {
        "size": 20,
        "query": {
            "knn": {
                "embedding": {
                    "vector": [1.0, 2.0, 3.0, 4.0],
                    "k": 20,
                    "filter": {
                        "bool": {
                            "filter": [
                                {"terms": {"doc_id": ["a", "b"]}},
                                {"term": {"team": "risk"}},
                                {"match": {"title": "fraud"}},
                                {"range": {"year": {"gte": 2020}}},
                            ]
                        }
                    },
                }
            }
        },
    }


def test_candidates_are_capped_at_the_engine_limit(spec: IndexSpec) -> None:
    body = build_knn_query(spec, [0, 0, 0, 1], k=5_000, oversample=10)
    assert body["size"] == 10_000
    assert "filter" not in body["query"]["knn"]["embedding"]


def test_filters_on_unmapped_fields_are_refused_by_name(spec: IndexSpec) -> None:
    with pytest.raises(InputError) as excinfo:
        build_knn_query(
            spec, [0, 0, 0, 1], k=3, oversample=2, filters={"colour": "red", "team": {"gte": "a"}}
        )
    assert [p.field for p in excinfo.value.problems] == ["filters.colour", "filters.team"]
    assert "not a mapped field of index 'docs'" in str(excinfo.value)


def test_query_vector_of_wrong_dimension_is_refused(spec: IndexSpec) -> None:
    with pytest.raises(InputError, match="vector: has dimension 3, the index expects 4"):
        build_knn_query(spec, [0, 0, 1], k=3, oversample=2)


def _brute_force_order(space: SpaceType, query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    if space is SpaceType.L2:
        return np.argsort(((vectors - query) ** 2).sum(axis=1), kind="stable")
    if space is SpaceType.INNER_PRODUCT:
        return np.argsort(-(vectors @ query), kind="stable")
    cos = (vectors @ query) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return np.argsort(-cos, kind="stable")


@pytest.mark.parametrize("space", list(SpaceType))
def test_rerank_matches_exact_brute_force_ordering(space: SpaceType) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 16))
    query = rng.normal(size=16)
    # Shuffle candidates as an approximate engine would return them.
    candidates = [Candidate("docs", f"{i:04d}", vectors[i].tolist(), {"n": i}) for i in rng.permutation(300)]
    hits = rerank(space, query.tolist(), candidates)
    assert [int(h.id) for h in hits] == _brute_force_order(space, query, vectors).tolist()
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_scores_follow_opensearch_scales() -> None:
    q = np.array([1.0, 0.0])
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(exact_scores(SpaceType.L2, q, vectors), [1.0, 1 / 3, 1 / 10, 1 / 21])
    np.testing.assert_allclose(exact_scores(SpaceType.INNER_PRODUCT, q, vectors), [2.0, 1.0, 1 / 3, 4.0])
    np.testing.assert_allclose(exact_scores(SpaceType.COSINE, q, vectors), [1.0, 0.5, 0.0, 0.8])


def test_cosine_with_a_zero_vector_scores_as_orthogonal() -> None:
    scores = exact_scores(SpaceType.COSINE, np.array([1.0, 0.0]), np.array([[0.0, 0.0]]))
    np.testing.assert_allclose(scores, [0.5])


def test_merge_across_indices_equals_brute_force_top_k_over_the_union() -> None:
    rng = np.random.default_rng(11)
    query = rng.normal(size=8)
    shards = {name: rng.normal(size=(120, 8)) for name in ("a", "b", "c")}
    per_index = [
        rerank(SpaceType.L2, query.tolist(), [Candidate(n, str(i), v.tolist(), {}) for i, v in enumerate(m)])
        for n, m in shards.items()
    ]
    merged = merge_top_k(per_index, 10)
    union = [(n, i, float(((v - query) ** 2).sum())) for n, m in shards.items() for i, v in enumerate(m)]
    expected = sorted(union, key=lambda t: t[2])[:10]
    assert [(h.index, int(h.id)) for h in merged] == [(n, i) for n, i, _ in expected]


def test_merge_keeps_one_hit_per_index_and_id() -> None:
    a = [Hit("x", "1", 0.5, {}), Hit("x", "2", 0.4, {})]
    b = [Hit("x", "1", 0.7, {}), Hit("y", "1", 0.6, {})]
    assert [(h.index, h.id, h.score) for h in merge_top_k([a, b], 5)] == [
        ("x", "1", 0.7),
        ("y", "1", 0.6),
        ("x", "2", 0.4),
    ]


def test_rerank_refuses_stored_vectors_of_another_dimension() -> None:
    with pytest.raises(InputError, match="stored vector has dimension 2"):
        rerank(SpaceType.L2, [0.0, 0.0, 0.0], [Candidate("docs", "1", [0.0, 0.0], {})])


def test_candidates_are_read_from_search_hits_without_their_vector() -> None:
    response = {
        "hits": {"hits": [{"_id": "c1", "_score": 0.9, "_source": {"embedding": [1, 2], "text": "t"}}]}
    }
    [candidate] = candidates_from_response("docs", response, "embedding")
    assert candidate == Candidate("docs", "c1", [1, 2], {"text": "t"})


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=15),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sampled_from(list(SpaceType)),
)
def test_rerank_then_merge_of_any_split_equals_brute_force_over_all(
    n: int, parts: int, k: int, seed: int, space: SpaceType
) -> None:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 6))
    query = rng.normal(size=6)
    owner = rng.integers(0, parts, size=n)
    per_index = [
        rerank(
            space,
            query.tolist(),
            [Candidate(f"i{p}", f"{i:03d}", vectors[i].tolist(), {}) for i in np.flatnonzero(owner == p)],
        )
        for p in range(parts)
    ]
    merged = merge_top_k(per_index, k)
    scores = exact_scores(space, query, vectors)
    expected = sorted(range(n), key=lambda i: (-scores[i], f"i{owner[i]}", f"{i:03d}"))[:k]
    assert [int(h.id) for h in merged] == expected
