"""Scoring a transaction's model inputs: the SageMaker endpoint, or the same script in process.

`fraud_service.local_scorer.LocalScorer` sends the same JSON body through the inference
script in process (tests, benchmark); this module stays free of numpy and scikit-learn,
which the request-path Lambda function does not carry. Any failure to score raises `ScoringUnavailable`, which the decision service turns
into the documented fallback (manual review).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

JSON = "application/json"


@dataclass(frozen=True)
class Score:
    score: float
    model_version: str


class ScoringUnavailable(RuntimeError):
    """The model could not score in time; the reason is what the audit log records."""


class Scorer(Protocol):
    def score(self, inference_id: str, features: Mapping[str, float | None]) -> Score: ...


def request_body(features: Mapping[str, float | None]) -> str:
    return json.dumps({"features": dict(features)}, separators=(",", ":"))


def parse_response(body: str | bytes) -> Score:
    try:
        payload = json.loads(body)
        score = float(payload["scores"][0])
        version = str(payload["model_version"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ScoringUnavailable(f"endpoint response is not {{scores, model_version}}: {exc}") from None
    if not 0.0 <= score <= 1.0:
        raise ScoringUnavailable(f"endpoint returned score {score}, outside [0, 1]")
    return Score(score, version)


def endpoint_client_config(timeout_seconds: float) -> Config:
    """One attempt with a hard read timeout: a retry would blow the request's latency budget,
    and the fallback (review) is safe."""
    return Config(
        connect_timeout=timeout_seconds,
        read_timeout=timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": 1},
    )


class EndpointScorer:
    """`sagemaker-runtime:InvokeEndpoint` with the transaction id as the inference id, so
    captured requests and reviewers' labels join on it in model monitoring."""

    def __init__(self, runtime: Any, endpoint_name: str) -> None:
        self._runtime = runtime
        self._endpoint = endpoint_name

    def score(self, inference_id: str, features: Mapping[str, float | None]) -> Score:
        try:
            response = self._runtime.invoke_endpoint(
                EndpointName=self._endpoint,
                ContentType=JSON,
                Accept=JSON,
                InferenceId=inference_id,
                Body=request_body(features),
            )
            body = response["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise ScoringUnavailable(f"endpoint {self._endpoint}: {code}") from None
        except BotoCoreError as exc:
            raise ScoringUnavailable(f"endpoint {self._endpoint}: {type(exc).__name__}") from None
        return parse_response(body)
