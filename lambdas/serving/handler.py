"""Prediction API: ``POST /models/{model}/predict`` behind API Gateway (REST, proxy integration).

Entry point ``lambdas.serving.handler.handler``. Status codes: 200 prediction; 400 invalid
JSON or schema violations (every failing field listed); 404 unknown model; 502 the model
failed; 503 the endpoint stayed throttled after retries; 504 the endpoint timed out; 500
anything else. Every error body carries the API Gateway request id as ``correlation_id``
(also in the ``X-Correlation-Id`` header) and never a stack trace.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from lambdas.common.errors import InputError, Problem
from lambdas.serving.endpoint_invoker import EndpointFailure, EndpointInvoker, runtime_client_config
from lambdas.serving.model_catalog import ModelCatalog
from lambdas.serving.prediction_cache import PredictionCache
from lambdas.serving.prediction_service import Prediction, PredictionService, UnknownModel
from lambdas.serving.settings import ServingSettings

SERVICE = "prediction-api"
METRICS_NAMESPACE = "MLPlatform/Serving"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
app = APIGatewayRestResolver()

_FAILURE_STATUS = {
    "model_error": (HTTPStatus.BAD_GATEWAY, "the model endpoint returned an error"),
    "throttled": (HTTPStatus.SERVICE_UNAVAILABLE, "the model endpoint is busy; retry later"),
    "timeout": (HTTPStatus.GATEWAY_TIMEOUT, "the model endpoint did not answer in time"),
}


@dataclass(frozen=True)
class AwsClients:
    """The boto3 clients the function uses (creating one costs ~100 ms, so they are shared)."""

    runtime: Any
    dynamodb: Any
    ssm: Any

    @classmethod
    def create(cls, settings: ServingSettings) -> AwsClients:
        return cls(
            runtime=boto3.client("sagemaker-runtime", config=runtime_client_config(settings)),
            # The cache is an optimisation: a slow table must not eat the endpoint's time budget.
            dynamodb=boto3.client(
                "dynamodb",
                config=Config(
                    connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 2, "mode": "standard"}
                ),
            ),
            ssm=boto3.client("ssm"),
        )


@dataclass
class Dependencies:
    """Everything built once per cold start; tests and the benchmark build their own."""

    settings: ServingSettings
    service: PredictionService
    runtime_client: Any
    dynamodb_client: Any


def build_dependencies(
    environ: dict[str, str] | None = None, clients: AwsClients | None = None
) -> Dependencies:
    settings = ServingSettings.from_env(os.environ if environ is None else environ)
    clients = clients or AwsClients.create(settings)
    service = PredictionService(
        catalog=ModelCatalog(settings, SSMProvider(boto3_client=clients.ssm)),
        cache=PredictionCache(settings.cache_table_name, clients.dynamodb),
        invoker=EndpointInvoker(settings, clients.runtime, sleep=time.sleep),
        ttl_seconds=settings.cache_ttl_seconds,
        clock=time.time,
        on_cache_error=lambda op, exc: logger.warning("prediction cache %s failed", op, exc_info=exc),
    )
    return Dependencies(settings, service, clients.runtime, clients.dynamodb)


_dependencies: Dependencies | None = None


class ConfigurationError(RuntimeError):
    """The function's environment is wrong: a deployment fault, never the caller's."""


def dependencies() -> Dependencies:
    global _dependencies
    if _dependencies is None:
        try:
            _dependencies = build_dependencies()
        except InputError as exc:
            # Re-raised as a distinct type so it becomes a 500, not a 400 "bad request".
            raise ConfigurationError(str(exc)) from exc
    return _dependencies


def use_dependencies(deps: Dependencies | None) -> None:
    """Replace (or with None, forget) the cold-start dependencies."""
    global _dependencies
    _dependencies = deps


def _correlation_id() -> str:
    return logger.get_correlation_id() or app.lambda_context.aws_request_id


def _error(status: HTTPStatus, message: str, problems: list[Problem] | None = None) -> Response:
    correlation_id = _correlation_id()
    body: dict[str, Any] = {"message": message, "correlation_id": correlation_id}
    if problems is not None:
        body["problems"] = [{"field": p.field, "reason": p.reason} for p in problems]
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers={"X-Correlation-Id": correlation_id},
    )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _count(metric: str, model: str) -> None:
    # One metric per invocation, so the dimension is added once and flushed with it.
    metrics.add_dimension(name="Model", value=model)
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


@app.post("/models/<model>/predict")
def predict(model: str) -> Response:
    service = dependencies().service
    if not service.catalog.knows(model):
        raise UnknownModel(model)
    app.append_context(model=model)
    try:
        request = json.loads(app.current_event.body or "", parse_constant=_reject_constant)
    except ValueError:
        raise InputError.single("body", "is not valid JSON") from None
    result: Prediction = service.predict(model, request)
    _count("CacheHit" if result.cache_hit else "CacheMiss", model)
    correlation_id = _correlation_id()
    return Response(
        status_code=HTTPStatus.OK.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(
            {
                "prediction": result.prediction,
                "model_version": result.model_version,
                "variant": result.variant,
                "cache_hit": result.cache_hit,
                "correlation_id": correlation_id,
            }
        ),
        headers={"X-Cache": "HIT" if result.cache_hit else "MISS", "X-Correlation-Id": correlation_id},
    )


@app.exception_handler(UnknownModel)
def _unknown_model(exc: UnknownModel) -> Response:
    # Not the requested name: a dimension per arbitrary path would be unbounded.
    _count("UnknownModel", "-")
    return _error(HTTPStatus.NOT_FOUND, f"unknown model {exc.model[:64]!r}")


@app.exception_handler(InputError)
def _invalid_request(exc: InputError) -> Response:
    _count("InvalidRequest", app.context.get("model", "-"))
    return _error(HTTPStatus.BAD_REQUEST, "invalid prediction request", exc.problems)


@app.exception_handler(EndpointFailure)
def _endpoint_failure(exc: EndpointFailure) -> Response:
    status, message = _FAILURE_STATUS[exc.kind]
    logger.error("endpoint invocation failed", extra={"failure": exc.kind, "detail": exc.detail})
    _count("EndpointFailure", app.context.get("model", "-"))
    return _error(status, message)


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unexpected error while predicting")
    _count("InternalError", app.context.get("model", "-"))
    return _error(
        HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; quote the correlation id when reporting it"
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
