"""Per-model settings that a shared monitoring function receives in its event.

One drift (or performance) function serves every model of a stack: each model's schedule
sends ``{"time": <scheduled time>, "monitor": {"MODEL_NAME": ..., ...}}``. The keys are the
function's environment variable names, so a function of one model (settings in its
environment) and a shared one (settings in each event) are validated by the same code, and a
problem names the same setting either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar

from lambdas.common.errors import InputError, Problem

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

S = TypeVar("S")


MONITOR_KEY = "monitor"


def monitor_settings(event: Any) -> dict[str, str]:
    """The event's per-model settings; empty when the event carries none."""
    if not isinstance(event, Mapping) or MONITOR_KEY not in event:
        return {}
    raw = event[MONITOR_KEY]
    if not isinstance(raw, Mapping) or not raw:
        raise InputError.single(
            MONITOR_KEY, "must be a non-empty object of setting names to string values", source="event"
        )
    problems = [
        Problem(f"{MONITOR_KEY}.{name}", f"must be a string, got {type(value).__name__}")
        for name, value in raw.items()
        if not isinstance(value, str)
    ]
    if problems:
        raise InputError(problems, source="event")
    return dict(raw)


def settings_source(
    event: Any, accepted: Collection[str] | None = None
) -> tuple[Mapping[str, str], str] | None:
    """(environment with the event's settings over it, where they came from), or None when the
    event carries no settings and the function's own environment holds them.

    With `accepted`, a setting the function does not know is an error, not silently ignored
    (a misspelt name would otherwise fall back to its default).
    """
    overrides = monitor_settings(event)
    if not overrides:
        return None
    if accepted is not None:
        unknown = sorted(set(overrides) - set(accepted))
        if unknown:
            raise InputError(
                [
                    Problem(
                        f"{MONITOR_KEY}.{name}",
                        f"is not a setting of this function; it takes {sorted(accepted)}",
                    )
                    for name in unknown
                ],
                source="event",
            )
    return {**os.environ, **overrides}, f"event.{MONITOR_KEY}"


def model_name_of(event: Any) -> str | None:
    """The model a run is for, as far as it is known before its settings are validated."""
    try:
        overrides = monitor_settings(event)
    except InputError:
        return None
    return overrides.get("MODEL_NAME") or os.environ.get("MODEL_NAME") or None


def settings_for(
    event: Any,
    parse: Callable[[Mapping[str, str], str], S],
    cache: MutableMapping[str, Any],
    accepted: Collection[str],
) -> S:
    """The run's settings: the event's (a shared function), else the environment's, parsed once
    and kept in `cache` under "settings". `parse(environ, source)` is the function's `from_env`;
    `accepted` names the settings an event may carry."""
    source = settings_source(event, accepted)
    if source is not None:
        return parse(*source)
    if "settings" not in cache:
        cache["settings"] = parse(os.environ, "environment")
    settings: S = cache["settings"]
    return settings


def count_failure(sink: Metrics, event: Any, metric_name: str, unit: Any) -> None:
    """Count a failed run in `metric_name` under its model: the model's failure alarm reads the
    metric by Model, a dimension a run that failed early has not set yet."""
    model = model_name_of(event)
    if model and "Model" not in sink.dimension_set:
        sink.add_dimension(name="Model", value=model)
    sink.add_metric(name=metric_name, unit=unit, value=1)
