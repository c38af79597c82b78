"""One prediction: validate, look in the cache, invoke the endpoint on a miss, remember.

Kept apart from the HTTP layer so the benchmark and tests can drive it, and so the
handler module holds only routing and the mapping of outcomes to status codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdas.common.errors import InputError
from lambdas.serving.cache_item import CachedPrediction, new_cached_prediction
from lambdas.serving.endpoint_invoker import EndpointInvoker
from lambdas.serving.feature_hash import cache_key_for_canonical, canonical_json
from lambdas.serving.model_catalog import ModelCatalog
from lambdas.serving.prediction_cache import PredictionCache
from lambdas.serving.request_schema import validate


class UnknownModel(LookupError):
    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.model = model


@dataclass(frozen=True)
class Prediction:
    prediction: Any
    model_version: str
    variant: str
    cache_hit: bool


def decode_prediction(body: str, content_type: str) -> Any:
    """The endpoint's answer as JSON when it says it is JSON, else the text itself."""
    if "json" in content_type.lower():
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _as_prediction(cached: CachedPrediction, hit: bool) -> Prediction:
    return Prediction(
        prediction=decode_prediction(cached.body, cached.content_type),
        model_version=cached.model_version,
        variant=cached.variant,
        cache_hit=hit,
    )


@dataclass
class PredictionService:
    catalog: ModelCatalog
    cache: PredictionCache
    invoker: EndpointInvoker
    ttl_seconds: int
    clock: Callable[[], float]
    # A cache that fails must not fail the prediction; the handler logs what is reported here.
    on_cache_error: Callable[[str, Exception], None] = lambda _op, _exc: None

    def predict(self, model: str, request: Any) -> Prediction:
        if not self.catalog.knows(model):
            raise UnknownModel(model)
        entry = self.catalog.entry(model)
        problems = validate(entry.request_schema, request)
        if problems:
            raise InputError(problems, source=f"prediction request for {model}")
        features: Mapping[str, Any] = request["features"]
        canonical = canonical_json(features)
        key = cache_key_for_canonical(model, entry.model_version, canonical)
        now = self.clock()
        try:
            cached = self.cache.get(key, now)
        except Exception as exc:  # any cache failure degrades to a miss
            self.on_cache_error("get", exc)
            cached = None
        if cached is not None:
            return _as_prediction(cached, hit=True)

        # The endpoint sees the canonical form, so data capture records one spelling per request.
        answer = self.invoker.invoke(entry.endpoint_name, '{"features":' + canonical + "}")
        fresh = new_cached_prediction(
            body=answer.body,
            content_type=answer.content_type,
            variant=answer.variant,
            model_version=entry.model_version,
            now=now,
            ttl_seconds=self.ttl_seconds,
        )
        try:
            self.cache.put(key, fresh)
        except Exception as exc:  # the prediction is still good
            self.on_cache_error("put", exc)
        return _as_prediction(fresh, hit=False)
