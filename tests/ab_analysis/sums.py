"""Helpers that turn raw samples into the summary statistics the engine consumes."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from lambdas.ab_analysis.summaries import Estimate, MeanSums

Array = npt.NDArray[np.float64]


def mean_sums(y: Array) -> MeanSums:
    return MeanSums(int(y.size), float(y.sum()), float((y * y).sum()))


def mean_estimate(y: Array) -> Estimate:
    return mean_sums(y).estimate("test")


def mean_input(y: Array) -> dict[str, Any]:
    return {"n": int(y.size), "sum": float(y.sum()), "sum_sq": float((y * y).sum())}


def mean_input_with_covariate(y: Array, x: Array) -> dict[str, Any]:
    return {
        **mean_input(y),
        "covariate": {
            "sum": float(x.sum()),
            "sum_sq": float((x * x).sum()),
            "sum_product": float((x * y).sum()),
        },
    }


def ratio_input(m: Array, d: Array) -> dict[str, Any]:
    return {
        "n": int(m.size),
        "numerator_sum": float(m.sum()),
        "numerator_sum_sq": float((m * m).sum()),
        "denominator_sum": float(d.sum()),
        "denominator_sum_sq": float((d * d).sum()),
        "sum_product": float((m * d).sum()),
    }
