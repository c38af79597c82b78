"""A small SigV4-signed OpenSearch client with retries on back-pressure.

No opensearch-py: the platform needs a dozen endpoints, and a thin client keeps the Lambda
bundle small and puts every request body where tests can see it (the transport is injectable).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
from botocore.httpsession import URLLib3Session

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: bytes


class Transport(Protocol):
    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> RawResponse: ...


class URLLib3Transport:
    """botocore's pooled urllib3 session: already in the Lambda runtime, TLS verified."""

    def __init__(self, timeout: int = 30) -> None:
        self._session = URLLib3Session(timeout=timeout)

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> RawResponse:
        request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
        response = self._session.send(request.prepare())
        return RawResponse(response.status_code, response.content)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any

    @property
    def found(self) -> bool:
        return self.status != 404


class OpenSearchError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        reason = body.get("error", body) if isinstance(body, dict) else body
        super().__init__(f"OpenSearch {method} {path} returned {status}: {json.dumps(reason)[:500]}")
        self.status = status
        self.body = body


class OpenSearchClient:
    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: Callable[[], Credentials],
        *,
        transport: Transport | None = None,
        service: str = "es",
        max_attempts: int = 5,
        base_delay: float = 0.25,
        max_delay: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = endpoint if endpoint.startswith("https://") else f"https://{endpoint}"
        self.base_url = self.base_url.rstrip("/")
        self._region = region
        self._credentials = credentials
        self._transport = transport or URLLib3Transport()
        self._service = service
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._jitter = jitter

    def _signed_headers(self, method: str, url: str, body: bytes | None, content_type: str) -> dict[str, str]:
        headers = {
            "Content-Type": content_type,
            # OpenSearch Serverless requires the payload hash header; the managed service accepts it.
            "x-amz-content-sha256": hashlib.sha256(body or b"").hexdigest(),
        }
        request = AWSRequest(method=method, url=url, headers=headers, data=body)
        SigV4Auth(self._credentials(), self._service, self._region).add_auth(request)
        return dict(request.headers.items())

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps many concurrent Lambdas from retrying in lockstep.
        return min(self._max_delay, self._base_delay * 2**attempt) * self._jitter()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str | int] | None = None,
        ndjson: str | None = None,
        allow: frozenset[int] = frozenset(),
    ) -> Response:
        """Send a signed request; retry 429/502/503/504 and connection errors; raise on other errors.

        `allow` lists statuses that are answers rather than failures (404 for an existence check).
        """
        url = self.base_url + "/" + quote(path.lstrip("/"), safe="/,_*-.")
        if params:
            url += "?" + urlencode(params)
        if ndjson is not None:
            data: bytes | None = ndjson.encode("utf-8")
            content_type = "application/x-ndjson"
        else:
            data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
            content_type = "application/json"
        attempt = 0
        while True:
            try:
                raw = self._transport.send(
                    method, url, self._signed_headers(method, url, data, content_type), data
                )
            except (HTTPClientError, BotoConnectionError):
                if attempt + 1 >= self._max_attempts:
                    raise
            else:
                if raw.status not in RETRYABLE_STATUSES or attempt + 1 >= self._max_attempts:
                    break
            self._sleep(self._backoff(attempt))
            attempt += 1
        parsed = _parse(raw.body)
        if 200 <= raw.status < 300 or raw.status in allow:
            return Response(raw.status, parsed)
        raise OpenSearchError(method, path, raw.status, parsed)


def _parse(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")
