from __future__ import annotations

import json

import pytest

from lambdas.common.errors import InputError
from lambdas.vector_search.bulk import build_bulk_body, parse_bulk_response
from lambdas.vector_search.chunking import chunk_text
from lambdas.vector_search.documents import (
    chunk_documents,
    chunk_id,
    stale_chunks_query,
    validate_doc_id,
    validate_metadata,
)
from lambdas.vector_search.index_spec import IndexSpec


def test_chunk_ids_are_deterministic_and_distinct_per_position() -> None:
    assert chunk_id("doc-1", 0) == chunk_id("doc-1", 0)
    assert chunk_id("doc-1", 0) != chunk_id("doc-1", 1)
    assert chunk_id("doc-1", 0) != chunk_id("doc-2", 0)
    assert len(chunk_id("x" * 256, 99_999).encode()) < 512


def test_doc_id_must_be_present_and_bounded() -> None:
    with pytest.raises(InputError, match="doc_id"):
        validate_doc_id("  ")
    with pytest.raises(InputError, match="at most 256"):
        validate_doc_id("x" * 257)


def test_metadata_is_checked_against_the_mapping(spec: IndexSpec) -> None:
    assert validate_metadata(spec, {"team": "risk", "year": 2024}) == {"team": "risk", "year": 2024}
    with pytest.raises(InputError) as excinfo:
        validate_metadata(spec, {"colour": "red", "year": "2024", "team": True})
    assert sorted(p.field for p in excinfo.value.problems) == [
        "metadata.colour",
        "metadata.team",
        "metadata.year",
    ]


def test_chunk_documents_carry_pipeline_fields_and_refuse_wrong_dimension(spec: IndexSpec) -> None:
    chunks = chunk_text("First sentence here. Second one.", max_tokens=4, overlap_tokens=0)
    vectors = [[0.1, 0.2, 0.3, 0.4]] * len(chunks)
    docs = chunk_documents(spec, "d1", chunks, vectors, {"team": "risk"})
    assert [d.id for d in docs] == [chunk_id("d1", i) for i in range(len(chunks))]
    assert docs[0].source == {
        "team": "risk",
        "doc_id": "d1",
        "chunk_index": 0,
        "text": chunks[0].text,
        "embedding": [0.1, 0.2, 0.3, 0.4],
    }
    with pytest.raises(InputError, match=r"embeddings\[1\]: has dimension 3, the index expects 4"):
        chunk_documents(spec, "d1", chunks, [[0.0] * 4, [0.0] * 3], {})
    with pytest.raises(InputError, match="NaN"):
        chunk_documents(spec, "d1", chunks[:1], [[0.0, float("nan"), 0.0, 0.0]], {})


def test_bulk_body_is_ndjson_action_then_source(spec: IndexSpec) -> None:
    chunks = chunk_text("Alpha beta. Gamma delta.", max_tokens=3, overlap_tokens=0)
    docs = chunk_documents(spec, "d1", chunks, [[1.0, 0.0, 0.0, 0.0]] * len(chunks), {})
    body = build_bulk_body("docs", docs)
    assert body.endswith("\n")
    lines = [json.loads(line) for line in body.strip().split("\n")]
    assert lines[0::2] == [{"index": {"_index": "docs", "_id": d.id}} for d in docs]
    assert lines[1::2] == [d.source for d in docs]


def test_bulk_response_separates_retryable_and_permanent_failures(spec: IndexSpec) -> None:
    chunks = chunk_text("A. B. C. D.", max_tokens=2, overlap_tokens=0)
    docs = chunk_documents(spec, "d1", chunks, [[0.0] * 4] * len(chunks), {})
    response = {
        "errors": True,
        "items": [
            {"index": {"_id": docs[0].id, "status": 201, "result": "created"}},
            {
                "index": {
                    "_id": docs[1].id,
                    "status": 429,
                    "error": {"type": "es_rejected_execution_exception", "reason": "queue full"},
                }
            },
            {
                "index": {
                    "_id": docs[2].id,
                    "status": 400,
                    "error": {"type": "mapper_parsing_exception", "reason": "bad field"},
                }
            },
        ],
    }
    outcome = parse_bulk_response(response, docs)
    assert outcome.succeeded == (docs[0].id,)
    assert [f.id for f in outcome.retryable] == [docs[1].id, docs[3].id]
    assert [(f.id, f.error_type) for f in outcome.permanent] == [(docs[2].id, "mapper_parsing_exception")]
    assert outcome.retryable[1].error_type == "missing_item"


def test_stale_chunk_query_deletes_only_positions_past_the_new_count() -> None:
    assert stale_chunks_query("d1", 3) == {
        "query": {
            "bool": {
                "filter": [{"term": {"doc_id": "d1"}}, {"range": {"chunk_index": {"gte": 3}}}],
            }
        }
    }
