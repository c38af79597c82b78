"""Validation of incoming feature records against their group's registry definition.

A record is a flat mapping: the entity key, the event time field and feature values. It
is the whole feature vector of the entity at that event time: absent features are null
(the online item holds all of a group's features, so a partial record would otherwise
have to read-modify-write). Each problem is reported with the field and the reason; a
record with any problem is rejected as a whole and the rest of the batch goes on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdas.common.errors import Problem
from lambdas.feature_store import codec, online_item
from lambdas.feature_store.registry import Dtype, FeatureGroup

# DynamoDB's item limit is 400 KB including attribute names; the margin covers the
# number attributes whose size DynamoDB computes slightly differently from their text.
MAX_ITEM_BYTES = 400 * 1024
_ITEM_OVERHEAD_BYTES = 200

DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60 * 1000
# Events before 2000 are almost always a unit mistake (seconds vs milliseconds) or 0.
MIN_EVENT_TIME_MS = 946_684_800_000
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class ValidRecord:
    """A record that passed validation, normalised for writing."""

    index: int  # position in the caller's batch
    entity_id: str
    event_time_ms: int
    values: tuple[Any, ...]  # in registry feature order
    encoded: str


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    index: int
    entity_id: str | None
    problems: tuple[Problem, ...]


def parse_event_time(value: Any) -> int:
    """Epoch milliseconds from an ISO-8601 string, a datetime or epoch *seconds*."""
    if isinstance(value, datetime):
        return online_item.to_epoch_ms(value)
    if isinstance(value, bool):
        raise ValueError("must be an ISO-8601 timestamp or epoch seconds, not a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number of epoch seconds")
        return round(value * 1000)
    if isinstance(value, str):
        try:
            return online_item.to_epoch_ms(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            raise ValueError(f"'{value}' is not an ISO-8601 timestamp") from None
    raise ValueError(f"must be an ISO-8601 timestamp or epoch seconds, got {type(value).__name__}")


def entity_id_of(value: Any) -> str:
    # Ints are accepted because upstream systems often emit numeric ids; 42 and "42" are
    # the same entity online and offline.
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("must be a non-empty string or an integer")


def _check_value(dtype: Dtype, allow_nan: bool, value: Any) -> tuple[Any, str | None]:
    """Return (normalised value, reason it is invalid or None)."""
    if dtype is Dtype.FLOAT64:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value, f"expected float64, got {type(value).__name__}"
        value = float(value)
        if not math.isfinite(value) and not allow_nan:
            return value, "NaN/Infinity not allowed for this feature (allow_nan is false)"
        return value, None
    if dtype is Dtype.INT64:
        if isinstance(value, bool) or not isinstance(value, int):
            return value, f"expected int64, got {type(value).__name__}"
        if not _INT64_MIN <= value <= _INT64_MAX:
            return value, "integer out of int64 range"
        return value, None
    if dtype is Dtype.STRING:
        return value, None if isinstance(value, str) else f"expected string, got {type(value).__name__}"
    if dtype is Dtype.BOOL:
        return value, None if isinstance(value, bool) else f"expected bool, got {type(value).__name__}"
    return value, f"unsupported dtype {dtype}"  # pragma: no cover - enum is exhaustive


def estimated_item_bytes(group: FeatureGroup, entity_id: str, encoded: str) -> int:
    """Upper bound of the online item's DynamoDB size for the oversize check."""
    pk = online_item.partition_key(group.name, entity_id)
    return (
        len(pk.encode())
        + len(encoded.encode())
        + len(group.fingerprint)
        + _ITEM_OVERHEAD_BYTES  # attribute names and three numbers
    )


def validate_record(
    group: FeatureGroup,
    record: Any,
    index: int,
    now_ms: int,
    max_future_skew_ms: int = DEFAULT_MAX_FUTURE_SKEW_MS,
) -> ValidRecord | RejectedRecord:
    if not isinstance(record, Mapping):
        return RejectedRecord(index, None, (Problem("record", "must be an object of field: value"),))
    problems: list[Problem] = []

    entity_id: str | None = None
    if group.entity_key not in record or record[group.entity_key] is None:
        problems.append(Problem(group.entity_key, "entity key is missing"))
    else:
        try:
            entity_id = entity_id_of(record[group.entity_key])
        except ValueError as exc:
            problems.append(Problem(group.entity_key, str(exc)))

    event_time_ms = 0
    field = group.event_time_field
    if field not in record or record[field] is None:
        problems.append(Problem(field, "event time is missing"))
    else:
        try:
            event_time_ms = parse_event_time(record[field])
        except ValueError as exc:
            problems.append(Problem(field, str(exc)))
        else:
            if event_time_ms > now_ms + max_future_skew_ms:
                problems.append(
                    Problem(field, f"event time is more than {max_future_skew_ms // 1000} s in the future")
                )
            elif event_time_ms < MIN_EVENT_TIME_MS:
                problems.append(Problem(field, "event time is before 2000-01-01; epoch seconds expected"))

    for name in record:
        if name != group.entity_key and name != field and name not in group.by_name:
            problems.append(Problem(name, f"unknown feature for group '{group.name}'"))

    values: list[Any] = []
    for feature in group.features:
        value = record.get(feature.name)
        if value is None:
            if not feature.allow_null:
                problems.append(Problem(feature.name, "value is missing and allow_null is false"))
            values.append(None)
            continue
        value, reason = _check_value(feature.dtype, feature.allow_nan, value)
        if reason:
            problems.append(Problem(feature.name, reason))
        values.append(value)

    if problems or entity_id is None:
        return RejectedRecord(index, entity_id, tuple(problems))

    encoded = codec.encode_values(group.schema_version, values)
    size = estimated_item_bytes(group, entity_id, encoded)
    if size > MAX_ITEM_BYTES:
        return RejectedRecord(
            index,
            entity_id,
            (
                Problem(
                    "record",
                    f"online item would be {size} bytes, over the DynamoDB limit of 400 KB ({MAX_ITEM_BYTES} bytes)",
                ),
            ),
        )
    return ValidRecord(index, entity_id, event_time_ms, tuple(values), encoded)
