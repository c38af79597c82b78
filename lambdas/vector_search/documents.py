"""Deterministic chunk ids and the documents the pipeline writes for each chunk.

A chunk's id depends only on its document id and position, so re-ingesting a document
overwrites its chunks in place; chunks past the new count are deleted by the pipeline.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.common.errors import InputError, Problem
from lambdas.vector_search.chunking import Chunk
from lambdas.vector_search.index_spec import (
    CHUNK_INDEX_FIELD,
    DOC_ID_FIELD,
    NUMERIC_TYPES,
    TEXT_FIELD,
    FieldType,
    IndexSpec,
)

MAX_DOC_ID_LENGTH = 256


def chunk_id(doc_id: str, chunk_index: int) -> str:
    # Hashing keeps ids well under OpenSearch's 512-byte limit whatever the document id holds.
    digest = hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:32]
    return f"{digest}-{chunk_index:05d}"


def validate_doc_id(doc_id: str) -> str:
    if not doc_id or not doc_id.strip():
        raise InputError.single("doc_id", "must be a non-empty string")
    if len(doc_id) > MAX_DOC_ID_LENGTH:
        raise InputError.single(
            "doc_id", f"must be at most {MAX_DOC_ID_LENGTH} characters, got {len(doc_id)}"
        )
    return doc_id


_PYTHON_TYPES: dict[FieldType, tuple[type, ...]] = {
    FieldType.KEYWORD: (str,),
    FieldType.TEXT: (str,),
    FieldType.INTEGER: (int,),
    FieldType.LONG: (int,),
    FieldType.FLOAT: (int, float),
    FieldType.DOUBLE: (int, float),
    FieldType.BOOLEAN: (bool,),
    FieldType.DATE: (str, int),
}


def validate_metadata(spec: IndexSpec, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Check metadata against the index mapping: the index is strict, so unknown fields would fail."""
    problems: list[Problem] = []
    for name, value in metadata.items():
        expected = spec.metadata.get(name)
        if expected is None:
            problems.append(
                Problem(
                    f"metadata.{name}",
                    f"is not mapped in index '{spec.name}' (mapped: {sorted(spec.metadata)})",
                )
            )
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            numeric_bool = isinstance(item, bool) and expected is not FieldType.BOOLEAN
            if numeric_bool or not isinstance(item, _PYTHON_TYPES[expected]):
                problems.append(
                    Problem(f"metadata.{name}", f"expected {expected}, got {type(item).__name__}")
                )
            elif expected in NUMERIC_TYPES and isinstance(item, int | float) and not math.isfinite(item):
                problems.append(Problem(f"metadata.{name}", "must be a finite number"))
    if problems:
        raise InputError(problems)
    return dict(metadata)


def validate_vector(vector: Sequence[float], dimension: int, field_path: str) -> list[float]:
    if len(vector) != dimension:
        raise InputError.single(field_path, f"has dimension {len(vector)}, the index expects {dimension}")
    values = [float(v) for v in vector]
    if not all(math.isfinite(v) for v in values):
        raise InputError.single(field_path, "contains NaN or infinite values")
    return values


@dataclass(frozen=True)
class ChunkDocument:
    id: str
    doc_id: str
    source: dict[str, Any]


def chunk_documents(
    spec: IndexSpec,
    doc_id: str,
    chunks: Sequence[Chunk],
    vectors: Sequence[Sequence[float]],
    metadata: Mapping[str, Any],
) -> list[ChunkDocument]:
    if len(chunks) != len(vectors):
        raise InputError.single("embeddings", f"got {len(vectors)} vectors for {len(chunks)} chunks")
    documents = []
    for chunk, vector in zip(chunks, vectors, strict=True):
        source = {
            **metadata,
            DOC_ID_FIELD: doc_id,
            CHUNK_INDEX_FIELD: chunk.index,
            TEXT_FIELD: chunk.text,
            spec.vector_field: validate_vector(vector, spec.dimension, f"embeddings[{chunk.index}]"),
        }
        documents.append(ChunkDocument(chunk_id(doc_id, chunk.index), doc_id, source))
    return documents


def stale_chunks_query(doc_id: str, chunk_count: int) -> dict[str, Any]:
    """`_delete_by_query` body removing a document's chunks beyond its new chunk count."""
    return {
        "query": {
            "bool": {
                "filter": [
                    {"term": {DOC_ID_FIELD: doc_id}},
                    {"range": {CHUNK_INDEX_FIELD: {"gte": chunk_count}}},
                ]
            }
        }
    }
