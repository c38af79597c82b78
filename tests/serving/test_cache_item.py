import pytest

from lambdas.serving.cache_item import TTL_ATTRIBUTE, from_item, new_cached_prediction, to_item


def _prediction(now=1_000.0, ttl=60):
    return new_cached_prediction(
        body='{"score": 0.12}',
        content_type="application/json",
        variant="blue",
        model_version="v3",
        now=now,
        ttl_seconds=ttl,
    )


def test_item_round_trips_and_carries_ttl_attribute():
    prediction = _prediction()
    item = to_item("fraud#v3#abc", prediction)
    assert item["pk"] == {"S": "fraud#v3#abc"}
    assert item[TTL_ATTRIBUTE] == {"N": "1060"}
    assert from_item(item, now=1_059.9) == prediction


def test_expired_item_is_a_miss_even_before_dynamodb_deletes_it():
    item = to_item("k", _prediction(now=1_000.0, ttl=60))
    assert from_item(item, now=1_060.0) is None


def test_malformed_item_is_a_miss():
    item = to_item("k", _prediction())
    del item["variant"]
    assert from_item(item, now=1_000.0) is None
    assert from_item({"pk": {"S": "k"}, "body": {"N": "x"}}, now=0) is None


def test_ttl_must_be_positive():
    with pytest.raises(ValueError, match="ttl_seconds"):
        _prediction(ttl=0)
