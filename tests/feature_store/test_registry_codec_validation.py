from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.common.errors import InputError
from lambdas.feature_store import codec, online_item
from lambdas.feature_store.registry import Dtype, Feature, Registry, parse_group
from lambdas.feature_store.validation import RejectedRecord, ValidRecord, parse_event_time, validate_record

from .conftest import NOW_MS, make_record, user_group


def test_fingerprint_changes_with_dtype_order_and_versions_but_not_description() -> None:
    base = user_group()
    assert user_group(description="other words").fingerprint == base.fingerprint
    assert user_group(schema_version=2).fingerprint != base.fingerprint
    assert user_group(transformation_version="2").fingerprint != base.fingerprint
    assert user_group(features=tuple(reversed(base.features))).fingerprint != base.fingerprint
    retyped = (Feature(name="txn_count_1h", dtype=Dtype.FLOAT64), *base.features[1:])
    assert user_group(features=retyped).fingerprint != base.fingerprint


def test_registry_round_trips_through_json_and_rejects_bad_definitions() -> None:
    registry = Registry([user_group()])
    assert Registry.from_json(registry.to_json()).get("user_activity") == user_group()
    with pytest.raises(InputError) as err:
        parse_group({"name": "Bad-Name", "entity_key": "id", "owner_team": "t", "features": []})
    fields = {p.field for p in err.value.problems}
    assert fields == {"name", "features"}
    with pytest.raises(InputError, match="clash with the entity key"):
        parse_group(
            {
                "name": "g",
                "entity_key": "id",
                "owner_team": "t",
                "features": [{"name": "id", "dtype": "int64"}],
            }
        )


values_strategy = st.tuples(
    st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.none() | st.floats(allow_nan=False),
    st.none() | st.text(),
    st.booleans(),
    st.none() | st.floats(allow_nan=True),
)


@given(values=values_strategy)
def test_codec_round_trips_every_value_exactly(values: tuple[Any, ...]) -> None:
    group = user_group()
    encoded = codec.encode_record(group, dict(zip(group.feature_names, values, strict=True)))
    decoded = codec.decode_for(group, encoded)
    for got, want in zip(decoded, values, strict=True):
        if isinstance(want, float) and math.isnan(want):
            assert isinstance(got, float) and math.isnan(got)
        else:
            assert got == want and type(got) is type(want)


def test_codec_refuses_another_schema_version_and_garbage() -> None:
    group = user_group()
    with pytest.raises(codec.CodecError, match="schema version 7"):
        codec.decode_for(group, codec.encode_values(7, [1, 2.0, "x", True, 0.5]))
    with pytest.raises(codec.CodecError):
        codec.decode("{not json")
    with pytest.raises(codec.CodecError):
        codec.decode('{"a": 1}')


def test_event_times_parse_from_iso_datetime_and_epoch_seconds() -> None:
    expected = NOW_MS + 123
    assert parse_event_time("2026-01-01T00:00:00.123Z") == expected
    assert parse_event_time("2026-01-01T01:00:00.123+01:00") == expected
    assert parse_event_time(datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)) == expected
    assert parse_event_time(expected / 1000) == expected
    for bad in (True, "yesterday", math.inf, [1]):
        with pytest.raises(ValueError):
            parse_event_time(bad)


@pytest.mark.parametrize(
    ("override", "field", "reason"),
    [
        ({"txn_count_1h": True}, "txn_count_1h", "expected int64, got bool"),
        ({"txn_count_1h": 2**63}, "txn_count_1h", "integer out of int64 range"),
        ({"avg_amount_1d": "1.0"}, "avg_amount_1d", "expected float64, got str"),
        ({"avg_amount_1d": math.inf}, "avg_amount_1d", "NaN/Infinity not allowed"),
        ({"is_verified": None}, "is_verified", "allow_null is false"),
        ({"country": 3}, "country", "expected string, got int"),
        ({"event_time": 1_700_000_000_000}, "event_time", "in the future"),
        ({"event_time": 5}, "event_time", "before 2000-01-01"),
        ({"user_id": ""}, "user_id", "non-empty string"),
    ],
)
def test_each_bad_value_is_rejected_naming_field_and_reason(
    override: dict[str, Any], field: str, reason: str
) -> None:
    result = validate_record(user_group(), make_record("u1", NOW_MS / 1000) | override, 0, NOW_MS)
    assert isinstance(result, RejectedRecord)
    assert [p.field for p in result.problems] == [field]
    assert reason in result.problems[0].reason


def test_ints_are_widened_to_float_and_numeric_entity_ids_become_strings() -> None:
    result = validate_record(user_group(), make_record(42, NOW_MS / 1000, avg_amount_1d=3), 0, NOW_MS)  # type: ignore[arg-type]
    assert isinstance(result, ValidRecord)
    assert result.entity_id == "42"
    assert result.values[1] == 3.0 and isinstance(result.values[1], float)


def test_condition_failure_is_unchanged_only_for_an_equal_event_time() -> None:
    assert online_item.classify_condition_failure(100, 100) is online_item.WriteOutcome.UNCHANGED
    assert online_item.classify_condition_failure(101, 100) is online_item.WriteOutcome.SUPERSEDED
    assert online_item.classify_condition_failure(None, 100) is online_item.WriteOutcome.SUPERSEDED
    request = online_item.put_item_request("t", online_item.build_item(user_group(), "u", 5000, "[1]", 6000))
    assert request["ConditionExpression"] == "attribute_not_exists(pk) OR event_time < :new"
    assert request["ExpressionAttributeValues"] == {":new": {"N": "5000"}}
