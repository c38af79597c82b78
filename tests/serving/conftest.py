import functools
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from moto import mock_aws

from lambdas.serving import handler as prediction_handler
from lambdas.serving.request_schema import FeatureSpec, schema_for_features
from lambdas.serving.settings import ServingSettings

REGION = "us-east-1"
TABLE = "prediction-cache"
PREFIX = "/mlplatform/serving/models/"
ENDPOINT_RESULTS_URL = "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results"

FRAUD_SCHEMA = schema_for_features(
    "fraud",
    [
        FeatureSpec("amount", "float", minimum=0.0),
        FeatureSpec("country", "string", allowed=("DE", "FR")),
        FeatureSpec("age", "int", minimum=18, maximum=120, required=False),
    ],
)


@dataclass
class LambdaContext:
    aws_request_id: str = "lambda-request-id"
    function_name: str = "prediction-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:prediction-api"


def api_event(model: str, body: object, request_id: str | None = None) -> dict:
    """An API Gateway REST proxy event for POST /models/{model}/predict."""
    raw = body if isinstance(body, str) else json.dumps(body)
    return {
        "resource": "/models/{model}/predict",
        "path": f"/models/{model}/predict",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"model": model},
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "resourcePath": "/models/{model}/predict",
            "httpMethod": "POST",
            "stage": "prod",
            "identity": {"sourceIp": "10.0.0.1"},
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def inject_endpoint_results(*results: dict) -> None:
    """Queue invoke_endpoint answers in moto (its documented static-results API)."""
    payload: dict[str, Any] = {"region": REGION, "results": list(results)}
    assert requests.post(ENDPOINT_RESULTS_URL, json=payload, timeout=5).status_code == 201


def put_model(model: str, version: str, endpoint: str = "fraud-endpoint", schema: dict | None = None) -> None:
    _clients().ssm.put_parameter(
        Name=f"{PREFIX}{model}",
        Type="String",
        Overwrite=True,
        Value=json.dumps(
            {"endpoint_name": endpoint, "model_version": version, "request_schema": schema or FRAUD_SCHEMA}
        ),
    )


ENV = {
    "CACHE_TABLE_NAME": TABLE,
    "MODEL_NAMES": "fraud,churn",
    "MODEL_PARAMETER_PREFIX": PREFIX,
    "CACHE_TTL_SECONDS": "600",
    # Zero so a version change in a test is seen on the next request.
    "CATALOG_MAX_AGE_SECONDS": "0",
    "THROTTLE_MAX_ATTEMPTS": "3",
    "THROTTLE_BASE_DELAY_SECONDS": "0",
}
AWS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@functools.cache
def _clients() -> prediction_handler.AwsClients:
    # Created once: a boto3 client costs ~100 ms, and moto intercepts clients made before
    # a mock starts. Tests that hook a client's events undo it (see ``client_hook``).
    os.environ.update(AWS_ENV)
    return prediction_handler.AwsClients.create(ServingSettings.from_env(ENV))


def dependencies(env: dict[str, str] | None = None) -> prediction_handler.Dependencies:
    return prediction_handler.build_dependencies(env or ENV, clients=_clients())


@pytest.fixture
def serving(monkeypatch):
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        _clients().dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        put_model("fraud", "v1")
        put_model("churn", "c1", endpoint="churn-endpoint")
        deps = dependencies()
        prediction_handler.use_dependencies(deps)
        try:
            yield deps
        finally:
            prediction_handler.use_dependencies(None)


@pytest.fixture
def client_hook():
    """Register a botocore event handler on a shared client for one test only."""
    registered: list[tuple[Any, str, Any]] = []

    def register(client: Any, event: str, handler: Any, first: bool = False) -> None:
        (client.meta.events.register_first if first else client.meta.events.register)(event, handler)
        registered.append((client, event, handler))

    yield register
    for client, event, handler in registered:
        client.meta.events.unregister(event, handler)


def call(model: str, body: object, request_id: str | None = None) -> tuple[int, dict, dict]:
    response = prediction_handler.handler(api_event(model, body, request_id), LambdaContext())
    headers = {name: values[-1] for name, values in response["multiValueHeaders"].items()}
    return response["statusCode"], json.loads(response["body"]), headers
