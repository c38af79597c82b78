"""Bulk request bodies and per-item parsing of bulk responses.

OpenSearch answers a bulk request with 200 even when items fail; each item carries its own
status, so failures are read item by item and mapped back to the documents they belong to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.vector_search.documents import ChunkDocument

# Statuses worth another attempt: back-pressure and server-side faults, not mapping errors.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def build_bulk_body(index: str, documents: Sequence[ChunkDocument]) -> str:
    """NDJSON body for `POST /_bulk`: an action line and a source line per document."""
    lines: list[str] = []
    for document in documents:
        lines.append(json.dumps({"index": {"_index": index, "_id": document.id}}, separators=(",", ":")))
        lines.append(json.dumps(document.source, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ItemFailure:
    id: str
    status: int
    error_type: str
    reason: str

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE_STATUSES


@dataclass(frozen=True)
class BulkOutcome:
    succeeded: tuple[str, ...]
    failed: tuple[ItemFailure, ...]

    @property
    def retryable(self) -> tuple[ItemFailure, ...]:
        return tuple(f for f in self.failed if f.retryable)

    @property
    def permanent(self) -> tuple[ItemFailure, ...]:
        return tuple(f for f in self.failed if not f.retryable)


def parse_bulk_response(response: dict[str, Any], sent: Sequence[ChunkDocument]) -> BulkOutcome:
    """Per-item outcome; an item missing from the response counts as a retryable failure."""
    items = response.get("items", [])
    succeeded: list[str] = []
    failed: list[ItemFailure] = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        _action, result = next(iter(item.items()))
        item_id = str(result.get("_id", sent[position].id if position < len(sent) else ""))
        seen.add(item_id)
        status = int(result.get("status", 500))
        if 200 <= status < 300 and "error" not in result:
            succeeded.append(item_id)
            continue
        error = result.get("error") or {}
        if isinstance(error, str):
            error = {"type": "error", "reason": error}
        failed.append(
            ItemFailure(item_id, status, str(error.get("type", "unknown")), str(error.get("reason", "")))
        )
    for document in sent:
        if document.id not in seen:
            failed.append(
                ItemFailure(document.id, 503, "missing_item", "no result for this item in the bulk response")
            )
    return BulkOutcome(tuple(succeeded), tuple(failed))
