"""Builders of engine inputs for the engine, CLI and handler tests."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from tests.ab_analysis.sums import mean_input


def two_arm_input(
    *,
    lift: float = 0.0,
    n: int = 4000,
    seed: int = 0,
    latency_shift: float = 0.0,
    margin: float = 0.05,
    sequential: bool = False,
) -> dict[str, Any]:
    """Revenue (decision metric) and latency (guardrail, lower is better) for control A and B."""
    rng = np.random.default_rng(seed)
    revenue = {"A": rng.normal(10.0, 4.0, n), "B": rng.normal(10.0 * (1 + lift), 4.0, n)}
    latency = {"A": rng.normal(100.0, 10.0, n), "B": rng.normal(100.0 * (1 + latency_shift), 10.0, n)}
    return {
        "control": "A",
        "weights": {"A": 0.5, "B": 0.5},
        "alpha": 0.05,
        "sequential": sequential,
        "metrics": [
            {"name": "revenue", "type": "mean", "variants": {v: mean_input(x) for v, x in revenue.items()}},
            {
                "name": "latency",
                "type": "mean",
                "guardrail": True,
                "margin": margin,
                "higher_is_better": False,
                "variants": {v: mean_input(x) for v, x in latency.items()},
            },
        ],
    }


def with_changes(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out.update(changes)
    return out
