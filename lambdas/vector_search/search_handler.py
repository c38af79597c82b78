"""Search API (API Gateway REST proxy): `POST /search`.

Body: {"indices": ["docs"], "vector": [...] | "text": "...", "k": 10, "oversample": 4,
"filters": {...}}; "text" needs EMBEDDING_PROVIDER and EMBEDDING_MODEL (the documents' model).
400 for invalid requests (each problem names its field), 404 for an unknown index.
Environment: OPENSEARCH_ENDPOINT, INDEX_SPECS (JSON list of index specs), optional
DEFAULT_OVERSAMPLE, MAX_K, EMBEDDING_PROVIDER, EMBEDDING_MODEL.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lambdas.common.errors import InputError
from lambdas.vector_search.chunking import preprocess
from lambdas.vector_search.embedding import Embedder
from lambdas.vector_search.http_client import OpenSearchClient, OpenSearchError
from lambdas.vector_search.index_spec import problems_from
from lambdas.vector_search.search import hit_view, search
from lambdas.vector_search.settings import SearchSettings, make_embedder, opensearch_settings, search_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="MLPlatform/VectorSearch")
app = APIGatewayRestResolver()


@cache
def settings() -> SearchSettings:
    return search_settings()


@cache
def opensearch_client() -> OpenSearchClient:
    return opensearch_settings().client()


@cache
def query_embedder() -> Embedder | None:
    config = settings()
    if config.embedding_provider is None or config.embedding_model is None:
        return None
    return make_embedder(
        config.embedding_provider, config.embedding_model, dimension=config.indices[0].dimension
    )


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indices: list[str] = Field(min_length=1, max_length=10)
    vector: list[float] | None = Field(default=None, min_length=1)
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    k: int = Field(default=10, ge=1)
    oversample: int | None = Field(default=None, ge=1, le=100)
    filters: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_query(self) -> SearchBody:
        if (self.vector is None) == (self.text is None):
            raise ValueError("send exactly one of 'vector' and 'text'")
        return self


@app.exception_handler(InputError)
def _bad_request(error: InputError) -> Response:
    metrics.add_metric("SearchesRefused", MetricUnit.Count, 1)
    return Response(
        status_code=400,
        content_type=content_types.APPLICATION_JSON,
        body={
            "message": "invalid search request",
            "problems": [{"field": p.field, "reason": p.reason} for p in error.problems],
        },
    )


@app.exception_handler(OpenSearchError)
def _backend_error(error: OpenSearchError) -> Response:
    # Retries already happened in the client; the caller gets a clean 502, the log the detail.
    logger.error("search backend failed", extra={"status": error.status, "error": str(error)})
    metrics.add_metric("SearchBackendErrors", MetricUnit.Count, 1)
    return Response(
        status_code=502,
        content_type=content_types.APPLICATION_JSON,
        body={"message": f"the search cluster answered {error.status}; retry later"},
    )


def parse_body(raw: Any) -> SearchBody:
    if not isinstance(raw, dict):
        raise InputError.single("body", "must be a JSON object")
    try:
        return SearchBody.model_validate(raw)
    except ValidationError as exc:
        raise InputError(problems_from(exc, "body")) from exc


def embed_query(text: str) -> list[float]:
    embedder = query_embedder()
    if embedder is None:
        raise InputError.single("text", "this search API has no embedding model configured; send 'vector'")
    clean = preprocess(text)
    if not clean:
        raise InputError.single("text", "is empty after preprocessing")
    return embedder.embed([clean])[0]


@app.post("/search")
@tracer.capture_method
def search_route() -> dict[str, Any]:
    try:
        raw = app.current_event.json_body
    except ValueError as exc:
        raise InputError.single("body", f"is not valid JSON: {exc}") from exc
    body = parse_body(raw)
    config = settings()
    known = config.by_name
    unknown = [name for name in body.indices if name not in known]
    if unknown:
        metrics.add_metric("SearchesRefused", MetricUnit.Count, 1)
        raise NotFoundError(f"unknown index {unknown[0]!r}; known: {sorted(known)}")
    if body.k > config.max_k:
        raise InputError.single("k", f"must be at most {config.max_k}, got {body.k}")
    result = search(
        opensearch_client(),
        [known[name] for name in body.indices],
        body.vector if body.vector is not None else embed_query(body.text or ""),
        k=body.k,
        oversample=body.oversample or config.default_oversample,
        filters=body.filters,
    )
    metrics.add_metric("Searches", MetricUnit.Count, 1)
    metrics.add_metric("CandidatesReranked", MetricUnit.Count, result.candidates)
    return {"hits": [hit_view(hit) for hit in result.hits], "candidates": result.candidates}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
