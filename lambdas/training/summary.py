"""The notification a person reads when a retraining run ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SUBJECT_MAX = 100  # SNS subject limit


@dataclass(frozen=True)
class RunSummary:
    model: str
    outcome: str  # deployed | deployed-with-warning | rejected | skipped | failed | registered
    execution: str
    training_job: str | None = None
    metric_name: str | None = None
    candidate_metric: float | None = None
    production_metric: float | None = None
    decision: str | None = None
    billable_seconds: float | None = None
    cost_usd: float | None = None
    spot_savings: float | None = None
    error: str | None = None
    cause: str | None = None
    baseline: str | None = None
    warning: str | None = None


def _fmt(value: float | None, spec: str, missing: str = "n/a") -> str:
    return missing if value is None else format(value, spec)


def render(summary: RunSummary) -> tuple[str, str]:
    subject = f"Retraining {summary.outcome}: {summary.model}"
    if len(subject) > _SUBJECT_MAX:
        subject = subject[: _SUBJECT_MAX - 3] + "..."
    lines = [
        f"Model: {summary.model}",
        f"Outcome: {summary.outcome}",
        f"Execution: {summary.execution}",
        f"Training job: {summary.training_job or 'n/a'}",
        f"Metric {summary.metric_name or 'n/a'}: candidate {_fmt(summary.candidate_metric, '.6g')}, "
        f"production {_fmt(summary.production_metric, '.6g', 'none')}",
        f"Decision: {summary.decision or 'n/a'}",
        f"Billable training time: {_fmt(summary.billable_seconds, '.0f')} s",
        f"Cost (upper bound): {'$' + _fmt(summary.cost_usd, '.2f') if summary.cost_usd is not None else 'n/a'}",
        f"Spot savings: {_fmt(None if summary.spot_savings is None else summary.spot_savings * 100, '.1f')}"
        f"{'' if summary.spot_savings is None else ' %'}",
    ]
    if summary.baseline:
        lines.append(f"Drift baseline: {summary.baseline}")
    if summary.warning:
        lines.append(f"Warning: {summary.warning[:2000]}")
    if summary.error:
        lines.append(f"Error: {summary.error}")
    if summary.cause:
        lines.append(f"Cause: {summary.cause[:2000]}")
    return subject, "\n".join(lines)


def summary_from_state(state: Mapping[str, Any], *, model: str, outcome: str, execution: str) -> RunSummary:
    """Collect what the state machine gathered so far; every part is optional because a run
    can fail before any of them exists."""
    training = state.get("training") or {}
    evaluation = state.get("evaluation") or {}
    verdict = evaluation.get("evaluation") or {}
    error = state.get("error") or {}
    decision = state.get("decision") or verdict.get("reason")
    baseline = state.get("baseline") or {}
    baseline_error = state.get("baselineError") or {}
    return RunSummary(
        model=model,
        outcome=outcome,
        execution=execution,
        training_job=training.get("TrainingJobName"),
        metric_name=verdict.get("metric_name"),
        candidate_metric=verdict.get("candidate"),
        production_metric=verdict.get("production"),
        decision=decision,
        billable_seconds=evaluation.get("billable_seconds"),
        cost_usd=evaluation.get("cost_usd"),
        spot_savings=evaluation.get("spot_savings"),
        error=error.get("Error"),
        cause=error.get("Cause"),
        baseline=baseline.get("baseline_uri"),
        warning=_baseline_warning(baseline_error),
    )


def _baseline_warning(error: Mapping[str, Any]) -> str | None:
    """The deploy stands; only the drift baseline is stale, which the reader must know."""
    if not error:
        return None
    return (
        "the model is deployed but its drift baseline was not updated "
        f"({error.get('Error', 'error')}: {error.get('Cause', 'no cause given')}); "
        "drift is still measured against the previous model's training set"
    )
