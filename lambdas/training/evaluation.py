"""Is the candidate model better than production? A pure comparison by margin and direction."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from lambdas.common.errors import InputError

Direction = Literal["maximize", "minimize"]
DIRECTIONS: tuple[Direction, ...] = ("maximize", "minimize")


@dataclass(frozen=True)
class Evaluation:
    metric_name: str
    direction: Direction
    margin: float
    candidate: float
    production: float | None
    improvement: float | None
    better: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def final_metric(final_metric_data: Sequence[Mapping[str, Any]], name: str) -> float:
    """The value of `name` in a DescribeTrainingJob `FinalMetricDataList`."""
    for item in final_metric_data:
        if item.get("MetricName") == name:
            value = float(item["Value"])
            if not math.isfinite(value):
                raise InputError.single(
                    "FinalMetricDataList", f"metric '{name}' is {value}, not a finite number"
                )
            return value
    present = sorted(str(item.get("MetricName")) for item in final_metric_data)
    raise InputError.single(
        "FinalMetricDataList",
        f"the training job reported no metric '{name}' (reported: {present or 'none'}); "
        "add a metric definition for it to the training config",
    )


def evaluate(
    *,
    metric_name: str,
    candidate: float,
    production: float | None,
    margin: float,
    direction: Direction,
) -> Evaluation:
    """The candidate is better when it beats production by more than `margin` (absolute).

    A tie is not an improvement: replacing production with an equal model only adds the
    risk of a deployment. With no production model yet, any finite candidate wins.
    """
    if direction not in DIRECTIONS:
        raise InputError.single("direction", f"'{direction}' is not one of {list(DIRECTIONS)}")
    if not math.isfinite(margin) or margin < 0:
        raise InputError.single("margin", f"{margin} must be a finite number >= 0")
    if not math.isfinite(candidate):
        raise InputError.single("candidate", f"metric '{metric_name}' is {candidate}, not a finite number")
    if production is None:
        return Evaluation(
            metric_name, direction, margin, candidate, None, None, True, "no production model to compare with"
        )
    improvement = candidate - production if direction == "maximize" else production - candidate
    better = improvement > margin
    verb = "beats" if better else "does not beat"
    reason = (
        f"{metric_name} {candidate:.6g} vs production {production:.6g}: improvement {improvement:.6g} "
        f"{verb} the margin {margin:.6g} ({direction})"
    )
    return Evaluation(metric_name, direction, margin, candidate, production, improvement, better, reason)
