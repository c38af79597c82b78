"""Batched embedding through a SageMaker endpoint or Amazon Bedrock, with backoff on throttling.

SageMaker: the endpoint receives `{"inputs": [text, ...]}` as JSON and must answer with one
pooled vector per input, either as a bare list of lists or under "embeddings" / "vectors".
Bedrock: Titan text embeddings take one text per call: `{"inputText": text}` (plus
`dimensions` / `normalize` for Titan v2) and answer `{"embedding": [...]}`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "InternalFailure",
    }
)


class EmbeddingError(RuntimeError):
    """The embedding service answered, but not with usable vectors."""


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def is_throttling(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in THROTTLING_CODES or status in (429, 503)


def with_backoff(
    call: Callable[[], T],
    *,
    attempts: int = 6,
    base_delay: float = 0.5,
    max_delay: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> T:
    """Run `call`, retrying throttling errors with full-jitter exponential backoff."""
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as error:
            if not is_throttling(error) or attempt + 1 == attempts:
                raise
            sleep(min(max_delay, base_delay * 2**attempt) * jitter())
    raise AssertionError("unreachable: the loop returns or raises")


def _vectors_from_sagemaker(payload: Any, expected: int) -> list[list[float]]:
    if isinstance(payload, dict):
        payload = payload.get("embeddings", payload.get("vectors"))
    if not isinstance(payload, list) or len(payload) != expected:
        got = len(payload) if isinstance(payload, list) else type(payload).__name__
        raise EmbeddingError(f"endpoint returned {got} embeddings for {expected} inputs")
    if not all(isinstance(v, list) and all(isinstance(x, int | float) for x in v) for v in payload):
        raise EmbeddingError(
            "endpoint must return one flat vector per input (pool token vectors in the model)"
        )
    return [[float(x) for x in v] for v in payload]


class SageMakerEmbedder:
    def __init__(self, runtime: Any, endpoint_name: str, batch_size: int = 16, **backoff: Any) -> None:
        self._runtime = runtime
        self._endpoint = endpoint_name
        self._batch_size = batch_size
        self._backoff = backoff

    def _invoke(self, batch: Sequence[str]) -> list[list[float]]:
        response = self._runtime.invoke_endpoint(
            EndpointName=self._endpoint,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps({"inputs": list(batch)}),
        )
        try:
            payload = json.loads(response["Body"].read())
        except ValueError as exc:
            raise EmbeddingError(f"endpoint '{self._endpoint}' did not return JSON: {exc}") from exc
        return _vectors_from_sagemaker(payload, len(batch))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = texts[start : start + self._batch_size]
            vectors.extend(with_backoff(partial(self._invoke, batch), **self._backoff))
        return vectors


class BedrockEmbedder:
    def __init__(
        self,
        runtime: Any,
        model_id: str,
        dimensions: int | None = None,
        normalize: bool = True,
        **backoff: Any,
    ) -> None:
        self._runtime = runtime
        self._model_id = model_id
        # Only Titan v2 accepts dimensions/normalize; v1 rejects unknown keys.
        self._v2_options = (
            {"dimensions": dimensions, "normalize": normalize} if ":2" in model_id or "v2" in model_id else {}
        )
        self._backoff = backoff

    def _invoke(self, text: str) -> list[float]:
        body = {"inputText": text, **{k: v for k, v in self._v2_options.items() if v is not None}}
        response = self._runtime.invoke_model(
            modelId=self._model_id,
            contentType="application/json",
            accept="application/json",
            body=json.dumps(body),
        )
        payload = json.loads(response["body"].read())
        vector = payload.get("embedding") if isinstance(payload, dict) else None
        if not isinstance(vector, list):
            raise EmbeddingError(f"model '{self._model_id}' returned no 'embedding'")
        return [float(x) for x in vector]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [with_backoff(partial(self._invoke, text), **self._backoff) for text in texts]
