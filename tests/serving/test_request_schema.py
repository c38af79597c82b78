import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.common.errors import Problem
from lambdas.serving.request_schema import FeatureSpec, schema_for_features, unsupported_keywords, validate

FEATURES = [
    FeatureSpec("amount", "float", minimum=0.0, maximum=10_000.0),
    FeatureSpec("count", "int", minimum=0),
    FeatureSpec("country", "string", allowed=("DE", "FR")),
    FeatureSpec("is_new", "bool", required=False),
    FeatureSpec("embedding", "float_vector", length=3, minimum=-1.0, maximum=1.0, required=False),
]
SCHEMA = schema_for_features("fraud", FEATURES)


def _request(**overrides):
    features = {"amount": 12.5, "count": 3, "country": "DE", "is_new": False, "embedding": [0.1, 0.2, -0.3]}
    features.update(overrides)
    return {"features": features}


def test_valid_request_has_no_problems():
    assert validate(SCHEMA, _request()) == []
    assert validate(SCHEMA, {"features": {"amount": 1, "count": 2.0, "country": "FR"}}) == []


def test_every_failing_field_is_named():
    problems = validate(
        SCHEMA, _request(amount=-1, count=1.5, country="US", is_new="yes", embedding=[0.1, 2.0])
    )
    assert set(problems) == {
        Problem("features.amount", "must be >= 0.0"),
        Problem("features.count", "must be of type integer"),
        Problem("features.country", "must be one of ['DE', 'FR']"),
        Problem("features.is_new", "must be of type boolean"),
        Problem("features.embedding", "must have at least 3 items"),
        Problem("features.embedding[1]", "must be <= 1.0"),
    }


def test_missing_and_unexpected_fields_are_reported():
    problems = validate(SCHEMA, {"features": {"amount": 1.0, "colour": "red"}, "extra": 1})
    assert Problem("features.count", "is required") in problems
    assert Problem("features.country", "is required") in problems
    assert Problem("features.colour", "is not an allowed field") in problems
    assert Problem("extra", "is not an allowed field") in problems


def test_booleans_are_not_numbers_and_body_must_be_an_object():
    assert validate(SCHEMA, _request(amount=True)) == [Problem("features.amount", "must be of type number")]
    assert validate(SCHEMA, [1, 2]) == [Problem("$", "must be of type object")]


def test_schema_is_draft4_with_only_supported_keywords():
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert SCHEMA["properties"]["features"]["required"] == ["amount", "count", "country"]
    assert unsupported_keywords(SCHEMA) == []
    assert unsupported_keywords({"type": "object", "properties": {"a": {"pattern": "x"}}}) == ["pattern"]


def test_validator_agrees_with_a_reference_implementation_on_generated_schema():
    jsonschema = pytest.importorskip("jsonschema")
    cases = [
        _request(),
        _request(amount=-1),
        _request(country="US"),
        {"features": {}},
        _request(embedding=[1, 2, 3]),
    ]
    reference = jsonschema.Draft4Validator(SCHEMA)
    for case in cases:
        assert (validate(SCHEMA, case) == []) == reference.is_valid(case)


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([FeatureSpec("a", "float"), FeatureSpec("a", "int")], "duplicate feature names"),
        ([], "at least one feature"),
    ],
)
def test_bad_feature_lists_are_refused(specs, message):
    with pytest.raises(ValueError, match=message):
        schema_for_features("m", specs)


def test_bad_feature_specs_are_refused():
    with pytest.raises(ValueError, match="minimum 2 is above maximum 1"):
        FeatureSpec("a", "float", minimum=2, maximum=1)
    with pytest.raises(ValueError, match="length applies only to float_vector"):
        FeatureSpec("a", "float", length=3)


PROPERTY_SCHEMA = schema_for_features(
    "prop",
    [
        FeatureSpec("x", "float", minimum=-1.0, maximum=1.0),
        FeatureSpec("n", "int", minimum=0, allowed=(0, 1, 2)),
        FeatureSpec("s", "string", allowed=("a", "b"), required=False),
        FeatureSpec("flag", "bool", required=False),
        FeatureSpec("v", "float_vector", length=2, minimum=0.0, required=False),
    ],
)
any_value = st.one_of(
    st.integers(-3, 3),
    st.floats(-2, 2, allow_nan=False),
    st.booleans(),
    st.none(),
    st.sampled_from(["a", "b", "c"]),
    st.lists(st.one_of(st.floats(-1, 1, allow_nan=False), st.booleans(), st.text(max_size=1)), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["x", "n", "s", "flag", "v", "extra"]), any_value))
def test_validity_agrees_with_jsonschema_on_random_requests(features):
    jsonschema = pytest.importorskip("jsonschema")
    # Draft 6 integer semantics (2.0 is an integer) are the ones the validator implements.
    reference = jsonschema.Draft6Validator(PROPERTY_SCHEMA)
    request = {"features": features}
    assert (validate(PROPERTY_SCHEMA, request) == []) == reference.is_valid(request)


def test_booleans_never_match_numeric_enum_values():
    assert validate(PROPERTY_SCHEMA, {"features": {"x": 0.0, "n": True}}) == [
        Problem("features.n", "must be of type integer")
    ]
    schema = {"enum": [1, "a"]}
    assert validate(schema, True) == [Problem("$", "must be one of [1, 'a']")]
    assert validate(schema, 1.0) == []
