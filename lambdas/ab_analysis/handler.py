"""Scheduled A/B analysis: gather per-variant statistics, run the engine, record, shift traffic.

Entry point ``lambdas.ab_analysis.handler.handler``, invoked by one EventBridge schedule per
experiment with ``{"time": ..., "experiment": {...}}`` (see ``event``), plus, when the
function serves several experiments, where the experiment's data lives under ``"monitor"``. Each scheduled time is
floored to the experiment's cadence to give a *window*; the decisions table holds at most
one record per window (conditional put), so a rerun of a window changes nothing. A record
whose traffic change was decided but not confirmed is re-applied on rerun: weights are
absolute targets, so applying them twice is the same as once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.ab_analysis import aws_io
from lambdas.ab_analysis.assembly import engine_input
from lambdas.ab_analysis.aws_io import DecisionStore, WindowRecord
from lambdas.ab_analysis.engine import analyse
from lambdas.ab_analysis.event import AnalysisEvent, Settings, parse_event
from lambdas.ab_analysis.outcomes import parse_time
from lambdas.ab_analysis.report import render_html
from lambdas.ab_analysis.traffic import plan_traffic
from lambdas.common.errors import InputError
from lambdas.common.monitor_event import monitor_settings

logger = Logger()
tracer = Tracer()
METRICS_NAMESPACE = "MLPlatform/ABTesting"


def count(name: str, experiment_id: str) -> None:
    """Emit one EMF count per experiment; flushed at once, so looks never share dimensions."""
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=METRICS_NAMESPACE,
        default_dimensions={"experiment_id": experiment_id},
    ):
        pass


class Clients:
    """The boto3 clients the function uses; created once per cold start, replaceable in tests."""

    def __init__(self, settings: Settings) -> None:
        self.s3 = boto3.client("s3")
        self.sagemaker = boto3.client("sagemaker")
        self.cloudwatch = boto3.client("cloudwatch")
        self.table = boto3.resource("dynamodb").Table(settings.decisions_table)


def window_of(time: datetime, cadence_minutes: int) -> datetime:
    """Floor a scheduled time to the cadence, so retries a few seconds apart share a window."""
    epoch = int(time.astimezone(UTC).timestamp())
    step = cadence_minutes * 60
    return datetime.fromtimestamp(epoch - epoch % step, tz=UTC)


def _format(time: datetime) -> str:
    return time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _apply(clients: Clients, record: WindowRecord, endpoint: str, store: DecisionStore) -> None:
    assert record.target_weights is not None
    aws_io.set_weights(clients.sagemaker, endpoint, record.target_weights)
    store.mark_applied(record.experiment_id, record.window)
    logger.info("traffic shifted", extra={"endpoint": endpoint, "weights": record.target_weights})


def process(event: Any, settings: Settings, clients: Clients) -> dict[str, Any]:
    parsed: AnalysisEvent = parse_event(event)
    config = parsed.experiment
    if config.endpoint_name not in settings.allowed_endpoints:
        raise InputError.single(
            "experiment.endpoint_name",
            f"this function analyses endpoint(s) {settings.allowed_endpoints} only, not {config.endpoint_name!r}",
            source="event",
        )
    window_end = window_of(parsed.time, config.cadence_minutes)
    window = _format(window_end)
    store = DecisionStore(clients.table)
    base = {"experiment_id": config.experiment_id, "window": window}

    existing = store.get(config.experiment_id, window)
    if existing is not None:
        if existing.target_weights is not None and not existing.applied and config.auto_shift:
            _apply(clients, existing, config.endpoint_name, store)
            return {**base, "status": "reapplied", "action": existing.action}
        return {**base, "status": "already_processed", "action": existing.action}
    if store.newer_than(config.experiment_id, window) is not None:
        return {**base, "status": "stale", "reason": "a later window has already been analysed"}
    previous = store.latest_before(config.experiment_id, window)
    if previous is not None and previous.finished:
        return {**base, "status": "finished", "reason": previous.reason}

    phase = previous.next_phase if previous else 0
    phase_start = parse_time(previous.next_phase_start) if previous else config.start_time
    ramp_step = previous.next_ramp_step if previous else 0
    state = previous.next_state if previous else None

    all_weights = aws_io.endpoint_weights(clients.sagemaker, config.endpoint_name)
    active = {v: w for v, w in all_weights.items() if w > 0}
    if config.control not in all_weights:
        raise InputError.single(
            "experiment.control",
            f"{config.control!r} is not a production variant of {config.endpoint_name!r} "
            f"(variants: {', '.join(sorted(all_weights))})",
            source="event",
        )
    total = sum(active.values())
    weights = {v: w / total for v, w in active.items()}
    outcomes = aws_io.read_outcomes(
        clients.s3,
        bucket=settings.outcomes_bucket,
        prefix=f"{settings.outcomes_prefix}{config.experiment_id}/",
        phase_start=phase_start,
        window_end=window_end,
        metrics={m.name for m in config.metrics},
    )
    if outcomes.problems:
        logger.warning(
            "skipped outcome lines", extra={"skipped": outcomes.lines_skipped, "problems": outcomes.problems}
        )
    endpoint_stats = (
        aws_io.variant_endpoint_stats(
            clients.cloudwatch,
            endpoint_name=config.endpoint_name,
            variants=list(weights),
            start=phase_start,
            end=window_end,
        )
        if config.endpoint_guardrails
        else {}
    )
    data = engine_input(
        config, weights=weights, outcome_sums=outcomes.sums, endpoint_stats=endpoint_stats, state=state
    )

    def record(**fields: Any) -> WindowRecord:
        defaults: dict[str, Any] = {
            "experiment_id": config.experiment_id,
            "window": window,
            "action": None,
            "variant": None,
            "next_phase": phase,
            "next_phase_start": _format(phase_start),
            "next_ramp_step": ramp_step,
            "next_state": state,
            "finished": False,
            "target_weights": None,
            "applied": False,
            "result_key": None,
        }
        return WindowRecord(**{**defaults, **fields})

    if len(weights) < 2:
        rec = record(
            status="no_decision", reason="fewer than two variants receive traffic; nothing to compare"
        )
        stored = store.put_new(rec)
        return {**base, "status": rec.status if stored else "already_processed", "reason": rec.reason}
    try:
        result = analyse(data)
    except InputError as exc:
        # Typically too little data early on; the window is recorded so a rerun does the same.
        rec = record(status="no_decision", reason="; ".join(exc.lines()))
        stored = store.put_new(rec)
        count("NoDecision", config.experiment_id)
        return {**base, "status": rec.status if stored else "already_processed", "reason": rec.reason}

    plan = plan_traffic(
        result.decision,
        control=config.control,
        variants=list(all_weights),
        ramp=config.ramp,
        ramp_step=ramp_step,
    )
    shifting = plan.weights is not None and config.auto_shift
    payload = result.to_dict()
    payload.update(
        experiment_id=config.experiment_id,
        window=window,
        phase=phase,
        phase_start=_format(phase_start),
        outcome_lines={
            "used": outcomes.lines_used,
            "skipped": outcomes.lines_skipped,
            "problems": outcomes.problems,
        },
        traffic={
            "plan": plan.weights,
            "note": plan.note,
            "auto_shift": config.auto_shift,
            "applied": shifting,
        },
    )
    prefix = f"{settings.results_prefix}{config.experiment_id}/{window}/"
    aws_io.put_text(
        clients.s3,
        bucket=settings.results_bucket,
        key=prefix + "result.json",
        body=json.dumps(payload, indent=2, allow_nan=False),
        content_type="application/json",
    )
    aws_io.put_text(
        clients.s3,
        bucket=settings.results_bucket,
        key=prefix + "report.html",
        body=render_html(payload, title=f"{config.experiment_id} at {window}"),
        content_type="text/html; charset=utf-8",
    )
    rec = record(
        status="decided",
        action=result.decision.action.value,
        variant=result.decision.variant,
        reason=result.decision.reason + ("" if plan.weights is None else f" Traffic: {plan.note}."),
        next_phase=phase + 1 if shifting and plan.new_phase else phase,
        next_phase_start=window if shifting and plan.new_phase else _format(phase_start),
        next_ramp_step=plan.ramp_step if shifting else ramp_step,
        # A new phase starts a new sequential test: its data were collected under new weights.
        next_state=None if shifting and plan.new_phase else result.state,
        finished=plan.finished if shifting else False,
        target_weights=plan.weights if shifting else None,
        result_key=prefix + "result.json",
    )
    if not store.put_new(rec):
        return {**base, "status": "already_processed"}
    count(f"Decision{result.decision.action.value.capitalize()}", config.experiment_id)
    if result.srm.mismatch:
        count("SampleRatioMismatch", config.experiment_id)
    if shifting:
        _apply(clients, rec, config.endpoint_name, store)
    logger.info(
        "analysis recorded", extra={**base, "decision": result.decision.to_dict(), "traffic": plan.note}
    )
    return {
        **base,
        "status": "decided",
        "action": result.decision.action.value,
        "variant": result.decision.variant,
        "reason": rec.reason,
        "traffic_applied": shifting,
        "result_key": rec.result_key,
    }


_settings: Settings | None = None
_clients: Clients | None = None


def _settings_for(event: Any) -> Settings:
    """A shared function's settings come with each event; a function of its own reads them once."""
    global _settings
    overrides = monitor_settings(event)
    if overrides:
        return Settings.from_event(overrides)
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    global _clients
    try:
        settings = _settings_for(event)
        if _clients is None:
            _clients = Clients(settings)
        return process(event, settings, _clients)
    except InputError as exc:
        logger.error("bad input", extra={"problems": exc.lines()})
        return {"status": "invalid_input", "problems": exc.lines()}
