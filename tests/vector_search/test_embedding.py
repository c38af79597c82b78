from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.vector_search.embedding import BedrockEmbedder, EmbeddingError, SageMakerEmbedder, with_backoff


def inject_endpoint_results(bodies: list[Any]) -> None:
    results = [{"Body": json.dumps(b), "ContentType": "application/json"} for b in bodies]
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={"account_id": "123456789012", "region": "eu-west-1", "results": results},
        timeout=5,
    )


@mock_aws
def test_sagemaker_embedder_batches_inputs_and_reads_vectors() -> None:
    inject_endpoint_results([[[1.0, 0.0], [0.0, 1.0]], {"embeddings": [[0.5, 0.5]]}])
    embedder = SageMakerEmbedder(boto3.client("sagemaker-runtime"), "embedder", batch_size=2)
    assert embedder.embed(["a", "b", "c"]) == [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]


@mock_aws
def test_sagemaker_embedder_refuses_a_count_mismatch() -> None:
    inject_endpoint_results([[[1.0, 0.0]]])
    embedder = SageMakerEmbedder(boto3.client("sagemaker-runtime"), "embedder", batch_size=4)
    with pytest.raises(EmbeddingError, match="1 embeddings for 2 inputs"):
        embedder.embed(["a", "b"])


@mock_aws
def test_sagemaker_embedder_refuses_token_level_output() -> None:
    inject_endpoint_results([[[[0.1, 0.2], [0.3, 0.4]]]])
    embedder = SageMakerEmbedder(boto3.client("sagemaker-runtime"), "embedder")
    with pytest.raises(EmbeddingError, match="one flat vector per input"):
        embedder.embed(["a"])


def _throttle(code: str = "ThrottlingException", status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "slow down"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "InvokeEndpoint")


def test_backoff_retries_throttling_with_exponential_delays_then_succeeds() -> None:
    outcomes: list[Any] = [_throttle(), _throttle("ModelNotReadyException"), "ok"]
    delays: list[float] = []

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    assert with_backoff(call, sleep=delays.append, jitter=lambda: 1.0, base_delay=0.5) == "ok"
    assert delays == [0.5, 1.0]


def test_backoff_does_not_retry_validation_errors_and_gives_up_after_attempts() -> None:
    calls = 0

    def bad() -> None:
        nonlocal calls
        calls += 1
        raise _throttle("ValidationException")

    with pytest.raises(ClientError):
        with_backoff(bad, sleep=lambda _s: None)
    assert calls == 1

    def throttled() -> None:
        raise _throttle()

    delays: list[float] = []
    with pytest.raises(ClientError):
        with_backoff(throttled, attempts=3, sleep=delays.append, jitter=lambda: 1.0)
    assert len(delays) == 2


def _bedrock_response(vector: list[float]) -> dict[str, Any]:
    data = json.dumps({"embedding": vector, "inputTextTokenCount": 3}).encode()
    return {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"}


def test_bedrock_titan_v2_body_and_throttling_retry() -> None:
    client = boto3.client("bedrock-runtime", region_name="eu-west-1")
    stubber = Stubber(client)
    expected_body = json.dumps({"inputText": "hello", "dimensions": 256, "normalize": True})
    params = {
        "modelId": "amazon.titan-embed-text-v2:0",
        "contentType": "application/json",
        "accept": "application/json",
        "body": expected_body,
    }
    stubber.add_client_error(
        "invoke_model", "ThrottlingException", http_status_code=429, expected_params=params
    )
    stubber.add_response("invoke_model", _bedrock_response([0.1, 0.2]), params)
    with stubber:
        embedder = BedrockEmbedder(
            client, "amazon.titan-embed-text-v2:0", dimensions=256, sleep=lambda _s: None
        )
        assert embedder.embed(["hello"]) == [[0.1, 0.2]]
    stubber.assert_no_pending_responses()


def test_bedrock_titan_v1_sends_only_input_text() -> None:
    client = boto3.client("bedrock-runtime", region_name="eu-west-1")
    stubber = Stubber(client)
    params = {
        "modelId": "amazon.titan-embed-text-v1",
        "contentType": "application/json",
        "accept": "application/json",
        "body": json.dumps({"inputText": "hi"}),
    }
    stubber.add_response("invoke_model", _bedrock_response([1.0]), params)
    with stubber:
        assert BedrockEmbedder(client, "amazon.titan-embed-text-v1", dimensions=1).embed(["hi"]) == [[1.0]]
