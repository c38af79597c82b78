"""Parsing one raw stream record into a `StreamEvent` the window logic can apply.

Event time is either an ISO-8601 string with a UTC offset or a number of epoch seconds.
Numeric fields (sum/mean) must be finite numbers; distinct-count fields must be strings or
integers. A field that is absent or null contributes nothing to its features (the event is
still counted). Anything else makes the record malformed: it raises `InputError`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdas.common.errors import InputError, Problem
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec


@dataclass(frozen=True)
class StreamEvent:
    """One validated event: its entity, identity, time and the values the features read."""

    entity: str
    event_id: str
    event_time_ms: int
    numbers: Mapping[str, float]
    distinct_hashes: Mapping[str, str]
    arrival_ms: int | None = None


def value_hash(value: str | int) -> str:
    """A 64-bit hash of a distinct-count value; stored instead of the value to bound state."""
    text = json.dumps(value)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def event_id_hash(event_id: str) -> str:
    return hashlib.blake2b(event_id.encode(), digest_size=8).hexdigest()


def parse_event_time_ms(value: Any) -> int:
    """Epoch milliseconds from an ISO-8601 string with offset or from epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("expected an ISO-8601 timestamp or epoch seconds, got a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"epoch seconds must be a finite non-negative number, got {value!r}")
        return round(value * 1000)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 timestamp") from None
        if parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset; add 'Z' or '+00:00'")
        return round(parsed.timestamp() * 1000)
    raise ValueError(f"expected an ISO-8601 timestamp or epoch seconds, got {type(value).__name__}")


def _scalar_text(payload: Mapping[str, Any], name: str, problems: list[Problem]) -> str:
    value = payload.get(name)
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    reason = "is missing" if value is None else f"must be a non-empty string or integer, got {value!r}"
    problems.append(Problem(name, reason))
    return ""


def parse_event(
    payload: Any, spec: StreamingFeatureSpec, *, arrival_ms: int | None = None, source: str = "event"
) -> StreamEvent:
    """Validate one decoded record against `spec`; every problem is named in the `InputError`."""
    if not isinstance(payload, Mapping):
        raise InputError.single("(record)", f"expected a JSON object, got {type(payload).__name__}", source)
    problems: list[Problem] = []
    entity = _scalar_text(payload, spec.entity_key, problems)
    event_id = _scalar_text(payload, spec.event_id_field, problems)
    event_time_ms = 0
    raw_time = payload.get(spec.event_time_field)
    if raw_time is None:
        problems.append(Problem(spec.event_time_field, "is missing"))
    else:
        try:
            event_time_ms = parse_event_time_ms(raw_time)
        except ValueError as exc:
            problems.append(Problem(spec.event_time_field, str(exc)))
    numbers: dict[str, float] = {}
    for name in spec.numeric_fields:
        value = payload.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(Problem(name, f"must be a finite number, got {value!r}"))
            continue
        numbers[name] = float(value)
    hashes: dict[str, str] = {}
    for name in spec.distinct_fields:
        value = payload.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(
                Problem(name, f"must be a string or integer to count distinct values, got {value!r}")
            )
            continue
        hashes[name] = value_hash(value)
    if problems:
        raise InputError(problems, source)
    return StreamEvent(entity, event_id, event_time_ms, numbers, hashes, arrival_ms)
