from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from lambdas.vector_search import search_handler
from tests.vector_search.conftest import FakeLambdaContext, spec_dict
from tests.vector_search.fake_opensearch import FakeOpenSearch

DIM = 8
SPECS = [spec_dict(name="news", dimension=DIM), spec_dict(name="docs", dimension=DIM, engine="lucene")]
RNG = np.random.default_rng(3)
CORPUS = {name: RNG.normal(size=(60, DIM)) for name in ("news", "docs")}


def approximate_engine(alias: str, body: dict[str, Any]) -> dict[str, Any]:
    """Return the requested number of candidates in a scrambled order, like an ANN engine might."""
    knn = body["query"]["knn"]["embedding"]
    vectors = CORPUS[alias]
    order = np.argsort(((vectors - np.asarray(knn["vector"])) ** 2).sum(axis=1))[: knn["k"]]
    scrambled = RNG.permutation(order)
    hits = [
        {
            "_id": f"{alias}-{i}",
            "_score": 0.0,
            "_source": {
                "embedding": vectors[i].tolist(),
                "doc_id": f"d{i}",
                "chunk_index": 0,
                "text": f"t{i}",
                "team": "risk",
            },
        }
        for i in scrambled
    ]
    return {"hits": {"hits": hits}}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeOpenSearch:
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "search-test.eu-west-1.es.amazonaws.com")
    monkeypatch.setenv("INDEX_SPECS", json.dumps(SPECS))
    monkeypatch.setenv("MAX_K", "50")
    search_handler.settings.cache_clear()
    fake = FakeOpenSearch(aliases={"news": "news", "docs": "docs"}, search_handler=approximate_engine)
    monkeypatch.setattr(search_handler, "opensearch_client", lambda: fake.client())
    return fake


def api_event(body: Any) -> dict[str, Any]:
    return {
        "resource": "/search",
        "path": "/search",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "requestContext": {
            "requestId": "r1",
            "resourcePath": "/search",
            "httpMethod": "POST",
            "stage": "prod",
        },
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(body: Any, context: FakeLambdaContext) -> tuple[int, dict[str, Any]]:
    response = search_handler.handler(api_event(body), context)
    return response["statusCode"], json.loads(response["body"])


def test_search_merges_indices_and_returns_exact_top_k(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    query = RNG.normal(size=DIM)
    status, body = call(
        {"indices": ["news", "docs"], "vector": query.tolist(), "k": 5, "oversample": 3}, lambda_context
    )
    assert status == 200
    union = [(n, i, float(((v - query) ** 2).sum())) for n, m in CORPUS.items() for i, v in enumerate(m)]
    expected = sorted(union, key=lambda t: t[2])[:5]
    assert [h["id"] for h in body["hits"]] == [f"{n}-{i}" for n, i, _ in expected]
    assert [h["score"] for h in body["hits"]] == pytest.approx([1 / (1 + d) for _, _, d in expected])
    assert body["candidates"] == 30
    first = body["hits"][0]
    assert set(first) == {"index", "id", "score", "doc_id", "chunk_index", "text", "metadata"}
    assert first["metadata"] == {"team": "risk"}
    searches = [s for s in fake.sent if s.path.endswith("/_search")]
    assert [s.path for s in searches] == ["/news/_search", "/docs/_search"]
    assert searches[0].body["query"]["knn"]["embedding"]["k"] == 15


def test_filters_reach_the_query(fake: FakeOpenSearch, lambda_context: FakeLambdaContext) -> None:
    status, _ = call(
        {"indices": ["news"], "vector": [0.0] * DIM, "k": 2, "filters": {"team": "risk"}}, lambda_context
    )
    assert status == 200
    [sent] = [s for s in fake.sent if s.path.endswith("/_search")]
    assert sent.body["query"]["knn"]["embedding"]["filter"] == {
        "bool": {"filter": [{"term": {"team": "risk"}}]}
    }
    assert sent.body["size"] == 8  # default oversample 4


def test_unknown_index_is_404(fake: FakeOpenSearch, lambda_context: FakeLambdaContext) -> None:
    status, body = call({"indices": ["nope"], "vector": [0.0] * DIM}, lambda_context)
    assert status == 404
    assert "unknown index 'nope'" in body["message"]
    assert fake.sent == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"indices": ["news"], "vector": [0.0] * 3}, "vector"),
        ({"indices": ["news"], "vector": [0.0] * DIM, "filters": {"colour": "red"}}, "filters.colour"),
        ({"indices": ["news"], "vector": [0.0] * DIM, "k": 0}, "k"),
        ({"indices": ["news"], "vector": [0.0] * DIM, "k": 51}, "k"),
        ({"indices": [], "vector": [0.0] * DIM}, "indices"),
        ({"indices": ["news"], "vector": "abc"}, "vector"),
        ({"indices": ["news"], "vector": [0.0] * DIM, "extra": 1}, "extra"),
        ("{not json", "body"),
    ],
)
def test_invalid_requests_are_400_naming_the_field(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext, body: Any, field: str
) -> None:
    status, answer = call(body, lambda_context)
    assert status == 400
    assert field in [p["field"] for p in answer["problems"]], answer
    assert [s for s in fake.sent if s.path.endswith("/_search")] == []


def test_indices_with_different_space_types_are_refused(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    specs = [*SPECS, spec_dict(name="ip", dimension=DIM, space_type="innerproduct")]
    monkeypatch.setenv("INDEX_SPECS", json.dumps(specs))
    search_handler.settings.cache_clear()
    status, answer = call({"indices": ["news", "ip"], "vector": [0.0] * DIM}, lambda_context)
    assert status == 400
    assert "different space types" in answer["problems"][0]["reason"]


def test_cluster_errors_become_a_502(fake: FakeOpenSearch, lambda_context: FakeLambdaContext) -> None:
    fake.scripted[("POST", "/news/_search")] = [
        (500, {"error": {"type": "search_phase_execution_exception"}})
    ]
    status, answer = call({"indices": ["news"], "vector": [0.0] * DIM}, lambda_context)
    assert status == 502
    assert "answered 500" in answer["message"]


def test_text_queries_are_embedded_with_the_configured_model(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    from moto import mock_aws

    from tests.vector_search.test_embedding import inject_endpoint_results

    monkeypatch.setenv("EMBEDDING_PROVIDER", "sagemaker")
    monkeypatch.setenv("EMBEDDING_MODEL", "embedder")
    search_handler.settings.cache_clear()
    search_handler.query_embedder.cache_clear()
    query = [0.5] * DIM
    with mock_aws():
        inject_endpoint_results([[query]])
        status, body = call({"indices": ["news"], "text": "  fraud   rings ", "k": 3}, lambda_context)
    search_handler.query_embedder.cache_clear()
    assert status == 200
    [sent] = [s for s in fake.sent if s.path.endswith("/_search")]
    assert sent.body["query"]["knn"]["embedding"]["vector"] == query
    assert len(body["hits"]) == 3


def test_text_without_a_configured_model_and_both_queries_are_400(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    search_handler.query_embedder.cache_clear()
    status, answer = call({"indices": ["news"], "text": "fraud"}, lambda_context)
    assert status == 400
    assert answer["problems"][0]["field"] == "text"
    assert "no embedding model configured" in answer["problems"][0]["reason"]
    status, answer = call({"indices": ["news"], "text": "fraud", "vector": [0.0] * DIM}, lambda_context)
    assert status == 400
    assert "exactly one of 'vector' and 'text'" in answer["problems"][0]["reason"]
