from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from lambdas.vector_search import ingest_handler
from lambdas.vector_search.chunking import chunk_text, preprocess
from lambdas.vector_search.documents import chunk_id
from lambdas.vector_search.index_manager import ensure_index
from lambdas.vector_search.index_spec import parse_index_spec
from tests.vector_search.conftest import FakeLambdaContext, spec_dict
from tests.vector_search.fake_opensearch import FakeOpenSearch
from tests.vector_search.test_embedding import inject_endpoint_results

SPEC = spec_dict(dimension=3)
TEXT = "The first sentence is here. A second one follows it. The third closes the document."


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenSearch]:
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "search-test.eu-west-1.es.amazonaws.com")
    monkeypatch.setenv("INDEX_SPEC", json.dumps(SPEC))
    monkeypatch.setenv("EMBEDDING_PROVIDER", "sagemaker")
    monkeypatch.setenv("EMBEDDING_MODEL", "embedder")
    monkeypatch.setenv("CHUNK_MAX_TOKENS", "8")
    monkeypatch.setenv("CHUNK_OVERLAP_TOKENS", "2")
    monkeypatch.setenv("EMBED_BATCH_SIZE", "64")
    fake = FakeOpenSearch()
    ensure_index(fake.client(), parse_index_spec(SPEC))
    fake.sent.clear()
    for cached in (ingest_handler.settings, ingest_handler.embedder, ingest_handler.opensearch_client):
        cached.cache_clear()
    monkeypatch.setattr(ingest_handler, "opensearch_client", lambda: fake.client())
    with mock_aws():
        yield fake
    for cached in (ingest_handler.settings, ingest_handler.embedder):
        cached.cache_clear()


def sqs_event(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": "rh",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:ingest",
                "awsRegion": "eu-west-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def chunks_of(text: str) -> list[str]:
    return [c.text for c in chunk_text(preprocess(text), max_tokens=8, overlap_tokens=2)]


def vectors(n: int, dimension: int = 3) -> list[list[float]]:
    return [[float(i), 1.0, 0.0][:dimension] + [0.0] * max(0, dimension - 3) for i in range(n)]


def stored(fake: FakeOpenSearch) -> dict[str, dict[str, Any]]:
    return fake.documents[fake.aliases["docs"]]


def test_document_is_chunked_embedded_and_bulk_indexed(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    chunks = chunks_of(TEXT)
    inject_endpoint_results([vectors(len(chunks))])
    result = ingest_handler.handler(
        sqs_event({"doc_id": "d1", "text": TEXT, "metadata": {"team": "risk"}}), lambda_context
    )
    assert result == {"batchItemFailures": []}
    [bulk] = [s for s in fake.sent if s.path == "/_bulk"]
    lines = bulk.ndjson
    assert lines[0::2] == [
        {"index": {"_index": "docs", "_id": chunk_id("d1", i)}} for i in range(len(chunks))
    ]
    assert [line["text"] for line in lines[1::2]] == chunks
    assert lines[1] == {
        "team": "risk",
        "doc_id": "d1",
        "chunk_index": 0,
        "text": chunks[0],
        "embedding": [0.0, 1.0, 0.0],
    }
    [cleanup] = [s for s in fake.sent if s.path.endswith("/_delete_by_query")]
    assert cleanup.path == "/docs/_delete_by_query"
    assert cleanup.body["query"]["bool"]["filter"][1] == {"range": {"chunk_index": {"gte": len(chunks)}}}


def test_reingesting_a_shorter_document_replaces_its_chunks(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    long_chunks, short_text = chunks_of(TEXT), "Only one short sentence."
    inject_endpoint_results([vectors(len(long_chunks)), vectors(1)])
    ingest_handler.handler(sqs_event({"doc_id": "d1", "text": TEXT}), lambda_context)
    assert len(stored(fake)) == len(long_chunks) > 1
    ingest_handler.handler(sqs_event({"doc_id": "d1", "text": short_text}), lambda_context)
    assert list(stored(fake)) == [chunk_id("d1", 0)]
    assert stored(fake)[chunk_id("d1", 0)]["text"] == short_text


def test_bad_messages_fail_alone_and_good_ones_are_indexed(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    inject_endpoint_results([vectors(1)])
    event = sqs_event(
        {"doc_id": "empty", "text": "   "},
        {"doc_id": "good", "text": "Fine text."},
        {"doc_id": "meta", "text": "x.", "metadata": {"colour": "red"}},
        "not json",
    )
    result = ingest_handler.handler(event, lambda_context)
    assert result == {
        "batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]
    }
    assert {v["doc_id"] for v in stored(fake).values()} == {"good"}


def test_wrong_embedding_dimension_fails_the_document(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    inject_endpoint_results([[[1.0, 2.0]]])
    result = ingest_handler.handler(sqs_event({"doc_id": "d1", "text": "Short."}), lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert not [s for s in fake.sent if s.path == "/_bulk"]


def test_only_failed_bulk_items_are_resent(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lambdas.vector_search.ingest.time.sleep", lambda _s: None)
    chunks = chunks_of(TEXT)
    inject_endpoint_results([vectors(len(chunks))])
    fake.bulk_failures = {chunk_id("d1", 1): [429, 503]}
    result = ingest_handler.handler(sqs_event({"doc_id": "d1", "text": TEXT}), lambda_context)
    assert result == {"batchItemFailures": []}
    bulks = [s for s in fake.sent if s.path == "/_bulk"]
    assert [len(b.ndjson) // 2 for b in bulks] == [len(chunks), 1, 1]
    assert bulks[1].ndjson[0] == {"index": {"_index": "docs", "_id": chunk_id("d1", 1)}}
    assert len(stored(fake)) == len(chunks)


def test_permanent_bulk_failure_fails_the_message_without_retrying(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext
) -> None:
    chunks = chunks_of(TEXT)
    inject_endpoint_results([vectors(len(chunks))])
    fake.bulk_failures = {chunk_id("d1", 0): [400]}
    result = ingest_handler.handler(sqs_event({"doc_id": "d1", "text": TEXT}), lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert len([s for s in fake.sent if s.path == "/_bulk"]) == 1


def test_missing_settings_name_the_variable(fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdas.common.errors import InputError
    from lambdas.vector_search.settings import pipeline_settings

    monkeypatch.delenv("EMBEDDING_MODEL")
    with pytest.raises(InputError, match="EMBEDDING_MODEL: environment variable is not set"):
        pipeline_settings()
    monkeypatch.setenv("EMBEDDING_MODEL", "m")
    monkeypatch.setenv("CHUNK_OVERLAP_TOKENS", "8")
    with pytest.raises(InputError, match="CHUNK_OVERLAP_TOKENS"):
        pipeline_settings()


def test_cluster_outage_fails_the_message_for_redelivery(
    fake: FakeOpenSearch, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    inject_endpoint_results([vectors(1)])
    fake.scripted[("POST", "/_bulk")] = [(500, {"error": "down"})]
    result = ingest_handler.handler(sqs_event({"doc_id": "d1", "text": "Short."}), lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}


def test_search_settings_name_bad_index_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdas.common.errors import InputError
    from lambdas.vector_search.settings import search_settings

    monkeypatch.setenv("INDEX_SPECS", json.dumps([spec_dict(space_type="cosinesimil")]))
    with pytest.raises(InputError) as excinfo:
        search_settings()
    assert [str(p) for p in excinfo.value.problems] == [
        "indices.0: engine 'faiss' does not support space_type 'cosinesimil' (supported: innerproduct, l2);"
        " use engine 'lucene' for cosine similarity"
    ]
