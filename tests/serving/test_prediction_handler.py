import io
import json

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from lambdas.common.errors import InputError
from lambdas.serving import handler as prediction_handler
from lambdas.serving.cache_item import TTL_ATTRIBUTE
from lambdas.serving.feature_hash import cache_key
from lambdas.serving.settings import ServingSettings

from .conftest import (
    ENV,
    TABLE,
    LambdaContext,
    _clients,
    api_event,
    call,
    dependencies,
    inject_endpoint_results,
    put_model,
)

REQUEST = {"features": {"amount": 12.5, "country": "DE", "age": 40}}
# The same request with other key order and number spellings.
SAME_REQUEST_TEXT = '{"features": {"age": 40.0, "country": "DE", "amount": 1.25e1}}'


def _result(score: float, variant: str = "blue") -> dict:
    return {
        "Body": json.dumps({"score": score}),
        "ContentType": "application/json",
        "InvokedProductionVariant": variant,
        "CustomAttributes": "",
    }


def _count_invocations(deps, client_hook) -> list[str]:
    """The `country` feature of every invoke_endpoint call the handler makes from now on."""
    calls: list[str] = []
    client_hook(
        deps.runtime_client,
        "before-call.sagemaker-runtime.InvokeEndpoint",
        lambda params, **_: calls.append(json.loads(params["body"])["features"]["country"]),
    )
    return calls


def _cache_items() -> list[dict]:
    return _clients().dynamodb.scan(TableName=TABLE)["Items"]


def test_miss_invokes_endpoint_then_identical_request_is_a_cache_hit(serving, client_hook):
    inject_endpoint_results(_result(0.91, "blue"), _result(0.05, "green"))
    calls = _count_invocations(serving, client_hook)
    status, body, headers = call("fraud", REQUEST)
    assert status == 200
    assert body["prediction"] == {"score": 0.91}
    assert (body["model_version"], body["variant"], body["cache_hit"]) == ("v1", "blue", False)
    assert headers["X-Cache"] == "MISS"

    status, body, headers = call("fraud", SAME_REQUEST_TEXT)
    assert status == 200
    assert (body["prediction"], body["variant"], body["cache_hit"]) == ({"score": 0.91}, "blue", True)
    assert headers["X-Cache"] == "HIT"
    assert len(calls) == 1


def test_miss_stores_result_under_version_and_hash_with_ttl(serving):
    inject_endpoint_results(_result(0.3))
    call("fraud", REQUEST)
    (item,) = _cache_items()
    assert item["pk"]["S"] == cache_key("fraud", "v1", REQUEST["features"])
    assert int(item[TTL_ATTRIBUTE]["N"]) - int(item["created_at"]["N"]) == 600
    assert json.loads(item["body"]["S"]) == {"score": 0.3}


def test_model_version_change_invalidates_cached_predictions(serving, client_hook):
    inject_endpoint_results(_result(0.1, "blue"))
    calls = _count_invocations(serving, client_hook)
    call("fraud", REQUEST)
    assert call("fraud", REQUEST)[1]["cache_hit"] is True
    put_model("fraud", "v2")
    status, body, _ = call("fraud", REQUEST)
    assert status == 200
    assert (body["model_version"], body["cache_hit"]) == ("v2", False)
    assert len(calls) == 2
    assert {item["model_version"]["S"] for item in _cache_items()} == {"v1", "v2"}


def test_expired_entry_is_refreshed_from_the_endpoint(serving, client_hook):
    inject_endpoint_results(_result(0.1))
    calls = _count_invocations(serving, client_hook)
    call("fraud", REQUEST)
    serving.service.clock = lambda: 4_102_444_800.0  # year 2100: past every TTL written today
    status, body, _ = call("fraud", REQUEST)
    assert (status, body["cache_hit"]) == (200, False)
    assert len(calls) == 2
    (item,) = _cache_items()
    assert int(item["created_at"]["N"]) == 4_102_444_800


def test_unknown_model_is_404_with_correlation_id(serving):
    status, body, headers = call("nope", REQUEST, request_id="req-404")
    assert status == 404
    assert body == {"message": "unknown model 'nope'", "correlation_id": "req-404"}
    assert headers["X-Correlation-Id"] == "req-404"


def test_schema_violations_are_400_listing_every_failing_field(serving):
    bad = {"features": {"amount": -3, "country": "US", "age": 12, "colour": "red"}}
    status, body, _ = call("fraud", bad, request_id="req-400")
    assert status == 400
    assert body["correlation_id"] == "req-400"
    assert {p["field"] for p in body["problems"]} == {
        "features.amount",
        "features.country",
        "features.age",
        "features.colour",
    }


@pytest.mark.parametrize("text", ["{not json", '{"features": {"amount": NaN, "country": "DE"}}', ""])
def test_body_that_is_not_json_is_400(serving, text):
    status, body, _ = call("fraud", text)
    assert status == 400
    assert body["problems"] == [{"field": "body", "reason": "is not valid JSON"}]


def test_model_error_is_502_with_correlation_id_and_no_trace(serving):
    with Stubber(serving.runtime_client) as stub:
        stub.add_client_error("invoke_endpoint", "ModelError", "boom at line 3", http_status_code=424)
        status, body, _ = call("fraud", REQUEST, request_id="req-502")
        stub.assert_no_pending_responses()
    assert status == 502
    assert body == {"message": "the model endpoint returned an error", "correlation_id": "req-502"}
    assert _cache_items() == []


def test_throttling_is_retried_until_it_succeeds(serving):
    ok = {
        "Body": StreamingBody(io.BytesIO(b'{"score": 0.4}'), 14),
        "ContentType": "application/json",
        "InvokedProductionVariant": "blue",
    }
    with Stubber(serving.runtime_client) as stub:
        stub.add_client_error("invoke_endpoint", "ThrottlingException", "slow down", http_status_code=400)
        stub.add_client_error("invoke_endpoint", "TooManyRequests", "slow down", http_status_code=429)
        stub.add_response("invoke_endpoint", ok)
        status, body, _ = call("fraud", REQUEST)
        stub.assert_no_pending_responses()
    assert (status, body["prediction"]) == (200, {"score": 0.4})


def test_persistent_throttling_is_503_after_max_attempts(serving):
    with Stubber(serving.runtime_client) as stub:
        for _ in range(3):
            stub.add_client_error("invoke_endpoint", "ThrottlingException", "slow down", http_status_code=400)
        status, body, _ = call("fraud", REQUEST)
        stub.assert_no_pending_responses()
    assert status == 503
    assert "correlation_id" in body


def test_non_throttling_errors_are_not_retried(serving):
    with Stubber(serving.runtime_client) as stub:
        stub.add_client_error("invoke_endpoint", "ServiceUnavailable", "down", http_status_code=503)
        # A retry would consume this second response and turn the 502 into a 200.
        stub.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(b"{}"), 2), "ContentType": "application/json"},
        )
        status, _, _ = call("fraud", REQUEST)
    assert status == 502


def test_endpoint_timeout_is_504(serving, client_hook):
    def time_out(**_kwargs):
        raise ReadTimeoutError(endpoint_url="https://runtime.sagemaker")

    client_hook(serving.runtime_client, "before-send.sagemaker-runtime.InvokeEndpoint", time_out, first=True)
    status, body, _ = call("fraud", REQUEST, request_id="req-504")
    assert (status, body["correlation_id"]) == (504, "req-504")


def test_runtime_client_has_timeouts_and_no_botocore_retries(serving):
    config = serving.runtime_client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (1.0, 5.0)
    assert config.retries["total_max_attempts"] == 1
    cache_config = serving.dynamodb_client.meta.config
    assert (cache_config.connect_timeout, cache_config.read_timeout) == (1, 1)


def test_cache_outage_degrades_to_endpoint_calls(serving):
    _clients().dynamodb.delete_table(TableName=TABLE)
    inject_endpoint_results(_result(0.6))
    status, body, _ = call("fraud", REQUEST)
    assert (status, body["prediction"], body["cache_hit"]) == (200, {"score": 0.6}, False)


def test_broken_catalog_entry_is_500_without_internals(serving):
    _clients().ssm.delete_parameter(Name="/mlplatform/serving/models/churn")
    status, body, _ = call("churn", {"features": {}}, request_id="req-500")
    assert status == 500
    assert body["correlation_id"] == "req-500"
    assert "Traceback" not in json.dumps(body) and "ParameterNotFound" not in json.dumps(body)


def test_non_json_endpoint_answers_are_returned_as_text(serving):
    inject_endpoint_results({"Body": "0.77", "ContentType": "text/csv", "InvokedProductionVariant": "blue"})
    _, body, _ = call("fraud", REQUEST)
    assert body["prediction"] == "0.77"


def test_misconfigured_environment_is_500_not_a_client_error(monkeypatch):
    monkeypatch.delenv("CACHE_TABLE_NAME", raising=False)
    prediction_handler.use_dependencies(None)
    response = prediction_handler.handler(api_event("fraud", REQUEST, "req-cfg"), LambdaContext())
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["correlation_id"] == "req-cfg"


def test_missing_environment_names_every_missing_variable():
    with pytest.raises(InputError) as info:
        ServingSettings.from_env({"MODEL_NAMES": "fraud"})
    fields = {p.field for p in info.value.problems}
    assert fields == {"CACHE_TABLE_NAME", "MODEL_PARAMETER_PREFIX"}
    assert all(p.reason == "is not set" for p in info.value.problems)


def test_settings_parse_model_names_and_defaults():
    settings = ServingSettings.from_env(ENV | {"MODEL_NAMES": " fraud , churn ,"})
    assert settings.model_names == {"fraud", "churn"}
    assert settings.parameter_name("fraud") == "/mlplatform/serving/models/fraud"
    assert settings.read_timeout_seconds == 5.0


def test_catalog_entries_are_cached_for_their_max_age(serving):
    deps = dependencies(ENV | {"CATALOG_MAX_AGE_SECONDS": "300"})
    prediction_handler.use_dependencies(deps)
    inject_endpoint_results(_result(0.1))
    assert call("fraud", REQUEST)[1]["model_version"] == "v1"
    put_model("fraud", "v2")
    # Within the max age the function keeps serving (and caching under) the version it read.
    status, body, _ = call("fraud", REQUEST)
    assert (status, body["model_version"], body["cache_hit"]) == (200, "v1", True)
