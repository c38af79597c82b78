from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from lambdas.vector_search.http_client import OpenSearchError, RawResponse
from tests.vector_search.fake_opensearch import FakeOpenSearch


def test_requests_are_sigv4_signed_for_the_es_service() -> None:
    fake = FakeOpenSearch()
    fake.scripted[("GET", "/docs")] = [(200, {"ok": True})]
    fake.client().request("GET", "/docs")
    headers = fake.sent[0].headers
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in headers["Authorization"]
    assert "X-Amz-Date" in headers
    assert headers["X-Amz-Security-Token"] == "token"
    # SHA-256 of the empty body.
    assert (
        headers["x-amz-content-sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_throttled_and_unavailable_responses_are_retried_with_growing_backoff() -> None:
    fake = FakeOpenSearch()
    fake.scripted[("POST", "/_bulk")] = [(429, {}), (503, {}), (200, {"items": []})]
    delays: list[float] = []
    client = fake.client(sleep=delays.append, jitter=lambda: 1.0, base_delay=0.5)
    response = client.request("POST", "/_bulk", ndjson='{"index":{}}\n{}\n')
    assert response.status == 200
    assert delays == [0.5, 1.0]
    assert len(fake.sent) == 3
    # Each attempt is signed afresh with the same body.
    assert {s.body for s in fake.sent} == {'{"index":{}}\n{}\n'}
    assert fake.sent[0].headers["Content-Type"] == "application/x-ndjson"


def test_retries_stop_after_max_attempts_and_raise_with_the_status() -> None:
    fake = FakeOpenSearch()
    fake.scripted[("GET", "/docs")] = [(503, {"error": "busy"})] * 3
    client = fake.client(max_attempts=3)
    with pytest.raises(OpenSearchError, match="returned 503"):
        client.request("GET", "/docs")
    assert len(fake.sent) == 3


def test_client_errors_are_not_retried_and_allowed_statuses_are_answers() -> None:
    fake = FakeOpenSearch()
    fake.scripted[("PUT", "/docs")] = [(400, {"error": {"type": "mapper_parsing_exception"}})]
    with pytest.raises(OpenSearchError, match="mapper_parsing_exception") as excinfo:
        fake.client().request("PUT", "/docs", {"mappings": {}})
    assert excinfo.value.status == 400
    assert len(fake.sent) == 1
    fake.scripted[("GET", "/missing")] = [(404, {"error": "no"})]
    assert not fake.client().request("GET", "/missing", allow=frozenset({404})).found


def test_connection_errors_are_retried() -> None:
    class Flaky:
        calls = 0

        def send(self, method: str, url: str, headers: object, body: bytes | None) -> RawResponse:
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise EndpointConnectionError(endpoint_url=url)
            return RawResponse(200, b'{"ok": true}')

    fake = FakeOpenSearch()
    client = fake.client()
    client._transport = Flaky()
    assert client.request("GET", "/").body == {"ok": True}
    assert Flaky.calls == 2


def test_query_parameters_and_endpoint_forms_build_the_url() -> None:
    fake = FakeOpenSearch()
    fake.scripted[("PUT", "/_plugins")] = [(200, {})]
    fake.client().request(
        "PUT", "_plugins/_ism/policies/p", {}, params={"if_seq_no": 3, "if_primary_term": 1}
    )
    assert fake.sent[0].path == "/_plugins/_ism/policies/p"
    assert fake.sent[0].params == {"if_seq_no": "3", "if_primary_term": "1"}
