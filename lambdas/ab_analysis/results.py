"""Result records of an analysis and their JSON form (the CLI's and the handler's output)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lambdas.ab_analysis.srm import SrmResult


class Action(StrEnum):
    CONTINUE = "continue"
    SHIP = "ship"
    ROLLBACK = "rollback"


class GuardrailStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    variant: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action.value, "variant": self.variant, "reason": self.reason}


@dataclass(frozen=True)
class GuardrailCheck:
    """Non-inferiority of a treatment on a guardrail metric, on the margin's scale."""

    status: GuardrailStatus
    margin: float
    margin_type: str
    # Confidence bound of the effect in the metric's good direction; pass needs it above -margin.
    lower_bound: float | None
    p_value_non_inferiority: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "margin": self.margin,
            "margin_type": self.margin_type,
            "lower_bound": _clean(self.lower_bound),
            "p_value_non_inferiority": self.p_value_non_inferiority,
            "note": self.note,
        }


@dataclass
class ComparisonResult:
    metric: str
    variant: str
    test: str
    lift_absolute: float
    ci_absolute: tuple[float, float]
    lift_relative: float | None
    ci_relative: tuple[float, float] | None
    p_value: float
    chance_to_win: float
    expected_loss: float
    higher_is_better: bool
    p_value_adjusted: float = math.nan
    significant: bool = False
    guardrail: GuardrailCheck | None = None
    power: dict[str, float | None] | None = None

    @property
    def effect_in_good_direction(self) -> float:
        return self.lift_absolute if self.higher_is_better else -self.lift_absolute

    @property
    def verdict(self) -> str:
        if not self.significant:
            return "no significant difference"
        return "better" if self.effect_in_good_direction > 0 else "worse"

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "lift_absolute": self.lift_absolute,
            "ci_absolute": _pair(self.ci_absolute),
            "lift_relative": self.lift_relative,
            "ci_relative": _pair(self.ci_relative) if self.ci_relative else None,
            "p_value": self.p_value,
            "p_value_adjusted": self.p_value_adjusted,
            "significant": self.significant,
            "verdict": self.verdict,
            "chance_to_win": self.chance_to_win,
            "expected_loss": self.expected_loss,
            "guardrail": self.guardrail.to_dict() if self.guardrail else None,
            "power": self.power,
        }


@dataclass
class MetricResult:
    name: str
    type: str
    guardrail: bool
    primary: bool
    higher_is_better: bool
    cuped_theta: float | None
    summaries: dict[str, dict[str, float]]
    comparisons: dict[str, ComparisonResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "guardrail": self.guardrail,
            "primary": self.primary,
            "higher_is_better": self.higher_is_better,
            "cuped_theta": self.cuped_theta,
            "variants": self.summaries,
            "comparisons": {v: c.to_dict() for v, c in self.comparisons.items()},
        }


@dataclass
class AnalysisResult:
    control: str
    alpha: float
    sequential: bool
    correction: str
    srm: SrmResult
    decision: Decision
    metrics: list[MetricResult]
    progress: float | None
    state: dict[str, Any] | None

    def comparisons(self) -> list[ComparisonResult]:
        return [c for m in self.metrics for c in m.comparisons.values()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "alpha": self.alpha,
            "sequential": self.sequential,
            "correction": self.correction,
            "srm": self.srm.to_dict(),
            "decision": self.decision.to_dict(),
            "progress": self.progress,
            "metrics": [m.to_dict() for m in self.metrics],
            "state": self.state,
        }


def _clean(value: float | None) -> float | None:
    """JSON has no infinity: an unbounded side of an interval is written as null."""
    return value if value is not None and math.isfinite(value) else None


def _pair(interval: tuple[float, float]) -> list[float | None]:
    return [_clean(interval[0]), _clean(interval[1])]
