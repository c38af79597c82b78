from __future__ import annotations

from typing import Any

import pytest

from lambdas.vector_search.index_spec import IndexSpec, parse_index_spec


def spec_dict(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "docs",
        "dimension": 4,
        "engine": "faiss",
        "space_type": "l2",
        "hnsw": {"m": 16, "ef_construction": 256, "ef_search": 256},
        "shards": 2,
        "replicas": 1,
        "metadata": {"team": "keyword", "year": "integer", "published": "date", "title": "text"},
    }
    base.update(overrides)
    return base


@pytest.fixture
def spec() -> IndexSpec:
    return parse_index_spec(spec_dict())
