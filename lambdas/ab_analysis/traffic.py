"""Where traffic goes after a decision: the next step of the ramp, or back to control.

A ship decision moves the winning variant one step along the ramp (e.g. 10 -> 50 -> 100 %
of traffic) and starts a new analysis phase, because mixing data collected under different
weights biases the pooled comparison; reaching the last step finishes the experiment. A
rollback sends everything to control and finishes it. Weights are absolute targets, so
applying a plan twice leaves the endpoint as applying it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lambdas.ab_analysis.results import Action, Decision


@dataclass(frozen=True)
class TrafficPlan:
    weights: dict[str, float] | None
    ramp_step: int
    new_phase: bool
    finished: bool
    note: str


def plan_traffic(
    decision: Decision,
    *,
    control: str,
    variants: Sequence[str],
    ramp: Sequence[float],
    ramp_step: int,
) -> TrafficPlan:
    """Target weights (fractions summing to 1) for every variant, or None to leave traffic alone."""
    if decision.action is Action.ROLLBACK:
        weights = {v: 1.0 if v == control else 0.0 for v in variants}
        return TrafficPlan(weights, ramp_step, True, True, f"all traffic back to control {control}")
    if decision.action is Action.SHIP and decision.variant is not None:
        next_step = min(ramp_step + 1, len(ramp) - 1)
        share = ramp[next_step] / 100.0
        weights = {v: 0.0 for v in variants}
        weights[decision.variant] = share
        weights[control] = weights.get(control, 0.0) + 1.0 - share
        finished = share >= 1.0
        note = (
            f"{decision.variant} fully rolled out (100 %)"
            if finished
            else f"{decision.variant} ramped to {ramp[next_step]:g} % (step {next_step + 1} of {len(ramp)})"
        )
        return TrafficPlan(weights, next_step, True, finished, note)
    return TrafficPlan(None, ramp_step, False, False, "traffic unchanged")
