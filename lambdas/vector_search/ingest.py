"""One document through the pipeline: preprocess, chunk, embed, bulk index, drop stale chunks.

Bulk items that fail with back-pressure are retried on their own (the rest are not resent);
a document that still has failed items, or any item refused for good, fails as a whole so the
queue redelivers just that message. Chunk ids are deterministic, so a retry overwrites.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lambdas.vector_search.bulk import ItemFailure, build_bulk_body, parse_bulk_response
from lambdas.vector_search.chunking import chunk_text, preprocess
from lambdas.vector_search.documents import (
    chunk_documents,
    stale_chunks_query,
    validate_doc_id,
    validate_metadata,
)
from lambdas.vector_search.embedding import Embedder
from lambdas.vector_search.http_client import OpenSearchClient
from lambdas.vector_search.index_spec import IndexSpec


class IngestMessage(BaseModel):
    """The SQS message body: one document."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str = Field(min_length=1)
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class ChunkingOptions:
    max_tokens: int = 256
    overlap_tokens: int = 32


@dataclass(frozen=True)
class IngestReport:
    doc_id: str
    chunks: int
    bulk_requests: int
    stale_chunks_deleted: int


class DocumentFailed(RuntimeError):
    def __init__(self, doc_id: str, failures: tuple[ItemFailure, ...], permanent: bool) -> None:
        kind = "refused" if permanent else "still failing after retries"
        detail = "; ".join(f"{f.id}: {f.status} {f.error_type} {f.reason}" for f in failures[:5])
        super().__init__(f"document '{doc_id}': {len(failures)} chunk(s) {kind}: {detail}")
        self.doc_id = doc_id
        self.failures = failures
        self.permanent = permanent


def ingest_document(
    message: IngestMessage,
    spec: IndexSpec,
    embedder: Embedder,
    client: OpenSearchClient,
    *,
    chunking: ChunkingOptions = ChunkingOptions(),
    bulk_attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> IngestReport:
    doc_id = validate_doc_id(message.doc_id)
    metadata = validate_metadata(spec, message.metadata)
    chunks = chunk_text(
        preprocess(message.text), max_tokens=chunking.max_tokens, overlap_tokens=chunking.overlap_tokens
    )
    vectors = embedder.embed([chunk.text for chunk in chunks])
    pending = chunk_documents(spec, doc_id, chunks, vectors, metadata)
    requests = 0
    for attempt in range(bulk_attempts):
        requests += 1
        response = client.request("POST", "/_bulk", ndjson=build_bulk_body(spec.name, pending))
        outcome = parse_bulk_response(response.body or {}, pending)
        if outcome.permanent:
            raise DocumentFailed(doc_id, outcome.permanent, permanent=True)
        if not outcome.retryable:
            break
        retry_ids = {failure.id for failure in outcome.retryable}
        pending = [document for document in pending if document.id in retry_ids]
        if attempt + 1 == bulk_attempts:
            raise DocumentFailed(doc_id, outcome.retryable, permanent=False)
        sleep(min(8.0, 0.5 * 2**attempt) * jitter())
    # Chunks past the new count belong to an older, longer version of the document.
    deleted = client.request(
        "POST",
        f"/{spec.name}/_delete_by_query",
        stale_chunks_query(doc_id, len(chunks)),
        params={"conflicts": "proceed"},
    ).body
    return IngestReport(doc_id, len(chunks), requests, int((deleted or {}).get("deleted", 0)))
