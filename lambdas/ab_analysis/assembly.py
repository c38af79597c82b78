"""Assemble the engine input from outcome sums, endpoint statistics and the persisted state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdas.ab_analysis.event import ExperimentConfig

LATENCY_METRIC = "endpoint_model_latency_ms"
ERROR_METRIC = "endpoint_5xx_error_rate"


@dataclass(frozen=True)
class VariantEndpointStats:
    """CloudWatch figures of one production variant over the analysis phase."""

    invocations: float = 0.0
    errors: float = 0.0
    # Average ModelLatency of each period (milliseconds); the periods are the units of the test.
    latency_periods: list[float] = field(default_factory=list)


def _latency_metric(stats: Mapping[str, VariantEndpointStats], margin: float) -> dict[str, Any] | None:
    if any(len(s.latency_periods) < 2 for s in stats.values()):
        return None
    return {
        "name": LATENCY_METRIC,
        "type": "mean",
        "guardrail": True,
        "higher_is_better": False,
        "margin": margin,
        "margin_type": "relative",
        "variants": {
            v: {
                "n": len(s.latency_periods),
                "sum": sum(s.latency_periods),
                "sum_sq": sum(x * x for x in s.latency_periods),
            }
            for v, s in stats.items()
        },
    }


def _error_metric(stats: Mapping[str, VariantEndpointStats], margin: float) -> dict[str, Any] | None:
    if any(s.invocations < 1 for s in stats.values()):
        return None
    return {
        "name": ERROR_METRIC,
        "type": "proportion",
        "guardrail": True,
        "higher_is_better": False,
        "margin": margin,
        "margin_type": "absolute",
        "variants": {
            v: {"n": int(s.invocations), "successes": min(s.errors, s.invocations)} for v, s in stats.items()
        },
    }


def engine_input(
    config: ExperimentConfig,
    *,
    weights: Mapping[str, float],
    outcome_sums: Mapping[str, Mapping[str, Mapping[str, Any]]],
    endpoint_stats: Mapping[str, VariantEndpointStats],
    state: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The same JSON structure ``mlplatform ab --input`` reads, for the active variants only."""
    metrics: list[dict[str, Any]] = []
    for definition in config.metrics:
        metric = definition.model_dump(exclude_none=True)
        metric["variants"] = {v: dict(outcome_sums.get(definition.name, {}).get(v, {})) for v in weights}
        # A variant with no outcome yet stays absent so the engine names it as missing.
        metric["variants"] = {v: s for v, s in metric["variants"].items() if s}
        metrics.append(metric)
    if config.endpoint_guardrails and endpoint_stats:
        active = {v: endpoint_stats.get(v, VariantEndpointStats()) for v in weights}
        for extra in (
            _latency_metric(active, config.latency_margin),
            _error_metric(active, config.error_rate_margin),
        ):
            if extra is not None:
                metrics.append(extra)
    data: dict[str, Any] = {
        "control": config.control,
        "weights": dict(weights),
        "alpha": config.alpha,
        "sequential": config.sequential,
        "correction": config.correction,
        "power": config.power,
        "metrics": metrics,
    }
    if config.planned_sample is not None:
        data["planned_sample"] = config.planned_sample
    invocations = {v: int(endpoint_stats[v].invocations) for v in weights if v in endpoint_stats}
    # SageMaker splits requests, not users, by weight: invocations are what the weights predict.
    if len(invocations) == len(weights) and all(n > 0 for n in invocations.values()):
        data["assignments"] = invocations
    if state:
        data["state"] = dict(state)
    return data
