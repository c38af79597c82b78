import hashlib
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.serving.feature_hash import cache_key, canonical_json, feature_digest

feature_values = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
)


@given(st.dictionaries(st.text(min_size=1, max_size=6), feature_values, max_size=12), st.randoms())
def test_digest_ignores_key_order(features, rnd):
    items = list(features.items())
    rnd.shuffle(items)
    assert feature_digest(dict(items)) == feature_digest(features)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_digest_is_stable_across_float_spellings(value):
    # The same float written in JSON by repr, by %.17g and in exponent form parses to one value.
    spellings = {repr(value), f"{value:.17g}", f"{value:e}" if float(f"{value:e}") == value else repr(value)}
    digests = {feature_digest(json.loads('{"x": ' + s + "}")) for s in spellings}
    assert len(digests) == 1


def test_integral_values_hash_alike_whatever_their_spelling():
    spellings = ['{"x": 3}', '{"x": 3.0}', '{"x": 3e0}', '{"x": 30e-1}']
    assert len({feature_digest(json.loads(s)) for s in spellings}) == 1
    assert feature_digest({"x": -0.0}) == feature_digest({"x": 0})


def test_different_values_give_different_digests():
    assert feature_digest({"x": 0.1}) != feature_digest({"x": 0.10000000000000002})
    assert feature_digest({"x": 1}) != feature_digest({"x": "1"})
    assert feature_digest({"x": True}) != feature_digest({"x": 1})


def test_canonical_json_is_sorted_compact_and_digest_is_its_sha256():
    features = {"b": [1.5, 2.0], "a": {"z": 1, "y": "é"}}
    text = canonical_json(features)
    assert text == '{"a":{"y":"é","z":1},"b":[1.5,2]}'
    assert feature_digest(features) == hashlib.sha256(text.encode()).hexdigest()


def test_cache_key_changes_with_model_version_and_model():
    features = {"amount": 12.5, "country": "DE"}
    v1 = cache_key("fraud", "v1", features)
    assert v1 == cache_key("fraud", "v1", dict(reversed(features.items())))
    assert v1 != cache_key("fraud", "v2", features)
    assert v1 != cache_key("churn", "v1", features)
    assert v1.startswith("fraud#v1#")


def test_non_finite_numbers_are_rejected():
    with pytest.raises(ValueError, match="non-finite"):
        feature_digest({"x": float("nan")})


def test_two_hundred_feature_request_hashes_the_same_after_shuffling():
    rng = random.Random(7)
    features = {f"f{i:03d}": rng.uniform(-5, 5) for i in range(200)}
    shuffled = dict(rng.sample(list(features.items()), k=200))
    assert feature_digest(shuffled) == feature_digest(features)
