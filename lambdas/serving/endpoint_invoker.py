"""Calls a SageMaker endpoint with a hard timeout, retrying throttling and nothing else."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from lambdas.serving.settings import ServingSettings
from lambdas.serving.throttle_retry import backoff_delays, is_throttling

FailureKind = Literal["model_error", "throttled", "timeout"]


@dataclass(frozen=True)
class EndpointAnswer:
    body: str
    content_type: str
    variant: str


class EndpointFailure(Exception):
    """The endpoint did not answer usefully; ``kind`` decides the HTTP status."""

    def __init__(self, kind: FailureKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def runtime_client_config(settings: ServingSettings) -> Config:
    # botocore's own retries are off: it would also retry 5xx and timeouts, which here
    # must fail fast; throttling is retried by ``EndpointInvoker``.
    return Config(
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )


class EndpointInvoker:
    def __init__(
        self,
        settings: ServingSettings,
        runtime_client: Any,
        sleep: Callable[[float], None],
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._client = runtime_client
        self._sleep = sleep
        self._rng = rng or random.Random()

    def invoke(self, endpoint_name: str, body: str) -> EndpointAnswer:
        s = self._settings
        delays = backoff_delays(
            s.throttle_max_attempts, s.throttle_base_delay_seconds, s.throttle_max_delay_seconds, self._rng
        )
        for attempt in range(s.throttle_max_attempts):
            try:
                response = self._client.invoke_endpoint(
                    EndpointName=endpoint_name,
                    Body=body.encode("utf-8"),
                    ContentType="application/json",
                    Accept="application/json",
                )
            except (ReadTimeoutError, ConnectTimeoutError) as exc:
                raise EndpointFailure("timeout", str(exc)) from exc
            except ClientError as exc:
                error = exc.response.get("Error", {})
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                code = str(error.get("Code", ""))
                if not is_throttling(code, status):
                    raise EndpointFailure("model_error", f"{code}: {error.get('Message', '')}") from exc
                if attempt == s.throttle_max_attempts - 1:
                    raise EndpointFailure("throttled", f"{code} after {attempt + 1} attempts") from exc
                self._sleep(delays[attempt])
                continue
            return EndpointAnswer(
                body=response["Body"].read().decode("utf-8"),
                content_type=str(response.get("ContentType", "application/json")),
                variant=str(response.get("InvokedProductionVariant", "")),
            )
        raise AssertionError("unreachable: the loop returns or raises")
