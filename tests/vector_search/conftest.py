from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class FakeLambdaContext:
    function_name: str = "vector-search-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:vector-search-test"
    aws_request_id: str = "req-1"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(autouse=True)
def _powertools_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "MLPlatform/VectorSearch")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
