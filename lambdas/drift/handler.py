"""Scheduled drift check of one model, in one process.

Entry point ``lambdas.drift.handler.handler``; an EventBridge schedule invokes it with its
``time`` (or a person with ``{"window_end": ..., "window_hours": ...}``), plus, when the
function serves several models, the model's settings under ``monitor``. It reads the
window's data capture, profiles it on the baseline's bins, scores, and records (see
`scoring_run`). Bad records and unreadable objects are counted and reported; a bad
setting or a missing baseline is returned as ``{"status": "error", "problems": [...]}``,
logged and counted in the model's DriftRunErrors metric; any other failure is counted there
too and raised. Windows with more than MAX_OBJECTS objects belong to the distributed run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.common.errors import InputError, Problem
from lambdas.common.monitor_event import count_failure, model_name_of, settings_for
from lambdas.drift import aws_io
from lambdas.drift.dataset_profile import DatasetProfile
from lambdas.drift.run import merge_object_profiles, profile_object
from lambdas.drift.scoring_run import NAMESPACE, finish
from lambdas.drift.settings import Settings, parse_window_event

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=NAMESPACE)


@dataclass(frozen=True)
class Clients:
    """boto3 clients, created once per cold start; tests build them inside moto."""

    s3: Any
    events: Any

    @classmethod
    def from_boto3(cls) -> Clients:
        return cls(boto3.client("s3"), boto3.client("events"))


_state: dict[str, Any] = {}


def _clients() -> Clients:
    if "clients" not in _state:
        _state["clients"] = Clients.from_boto3()
    clients: Clients = _state["clients"]
    return clients


def process(event: Any, settings: Settings, clients: Clients, sink: Metrics = metrics) -> dict[str, Any]:
    window = parse_window_event(event).window(settings.window_hours)
    baseline = aws_io.read_baseline(clients.s3, settings.baseline_uri)
    objects = aws_io.window_objects(clients.s3, settings.data_uri, settings.data_format, *window)
    if len(objects) > settings.max_objects:
        raise InputError.single(
            "MAX_OBJECTS",
            f"the window holds {len(objects)} objects, more than {settings.max_objects}: "
            "use the distributed drift run (state machine) for windows this large",
            source=settings.model_name,
        )
    parts: list[DatasetProfile] = []
    problems: list[Problem] = []
    bad_lines = 0
    for item in objects:
        part = profile_object(clients.s3, settings, baseline, item["bucket"], item["key"])
        parts.append(part.profile)
        problems += part.problems
        bad_lines += part.bad_lines
    current = merge_object_profiles(baseline, parts)
    for problem in problems[:20]:
        logger.warning("skipped input", extra={"where": problem.field, "reason": problem.reason})
    summary = finish(
        s3=clients.s3,
        events=clients.events,
        metrics=sink,
        settings=settings,
        baseline=baseline,
        current=current,
        window=window,
        objects=len(objects),
        bad_lines=bad_lines,
        problems=problems,
    )
    logger.info("drift run finished", extra=summary)
    return summary


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A shared function serves many models: every log line of the run names its model.
    logger.append_keys(model=model_name_of(event))
    try:
        return {
            "status": "ok",
            **process(
                event, settings_for(event, Settings.from_env, _state, Settings.variable_names()), _clients()
            ),
        }
    except InputError as exc:
        # A schedule has nobody to read a traceback: log it, count it (alarmed), return it.
        logger.error("drift run failed", extra={"problems": exc.lines()})
        count_failure(metrics, event, "DriftRunErrors", MetricUnit.Count)
        return {"status": "error", "problems": exc.lines()}
    except Exception:
        # Counted for the model's alarm (a shared function's Errors metric names no model),
        # then raised so that EventBridge retries the run.
        count_failure(metrics, event, "DriftRunErrors", MetricUnit.Count)
        raise
