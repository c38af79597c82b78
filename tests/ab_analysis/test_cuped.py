"""CUPED against the ANCOVA regression of statsmodels, and its variance reduction."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from lambdas.ab_analysis.cuped import cuped_estimates
from lambdas.ab_analysis.spec import parse_experiment
from lambdas.ab_analysis.summaries import CovariateSums, MeanSums
from lambdas.common.errors import InputError


def _sums(y: np.ndarray, x: np.ndarray) -> MeanSums:
    return MeanSums(y.size, y.sum(), (y * y).sum(), CovariateSums(x.sum(), (x * x).sum(), (x * y).sum()))


def _data(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x_c, x_t = rng.normal(50, 10, 800), rng.normal(50, 10, 700)
    y_c = 5 + 0.8 * x_c + rng.normal(0, 4, 800)
    y_t = 5.6 + 0.8 * x_t + rng.normal(0, 4, 700)
    return x_c, y_c, x_t, y_t


def test_cuped_difference_equals_the_ancova_treatment_coefficient() -> None:
    x_c, y_c, x_t, y_t = _data(1)
    estimates, theta = cuped_estimates({"A": _sums(y_c, x_c), "B": _sums(y_t, x_t)}, "metrics.m")
    design = sm.add_constant(np.column_stack([np.r_[np.zeros(800), np.ones(700)], np.r_[x_c, x_t]]))
    fit = sm.OLS(np.r_[y_c, y_t], design).fit()
    assert estimates["B"].mean - estimates["A"].mean == pytest.approx(fit.params[1], rel=1e-9)
    assert theta == pytest.approx(fit.params[2], rel=1e-9)
    cuped_se = np.sqrt(estimates["A"].standard_error_sq + estimates["B"].standard_error_sq)
    assert cuped_se == pytest.approx(fit.bse[1], rel=0.02)


def test_cuped_reduces_variance_by_the_squared_correlation() -> None:
    x_c, y_c, x_t, y_t = _data(2)
    adjusted, _ = cuped_estimates({"A": _sums(y_c, x_c), "B": _sums(y_t, x_t)}, "metrics.m")
    raw = _sums(y_c, x_c).estimate("c")
    rho = np.corrcoef(x_c, y_c)[0, 1]
    assert adjusted["A"].variance / raw.variance == pytest.approx(1 - rho * rho, rel=0.02)


def test_a_covariate_for_only_some_variants_names_the_missing_one() -> None:
    x_c, y_c, _, y_t = _data(3)
    with pytest.raises(InputError, match=r"metrics\.m\.variants\.B\.covariate"):
        cuped_estimates(
            {"A": _sums(y_c, x_c), "B": MeanSums(y_t.size, y_t.sum(), (y_t**2).sum())}, "metrics.m"
        )


def test_engine_rejects_a_covariate_on_a_ratio_metric() -> None:
    data = {
        "control": "A",
        "weights": {"A": 0.5, "B": 0.5},
        "metrics": [
            {
                "name": "rps",
                "type": "ratio",
                "variants": {
                    v: {
                        "n": 10,
                        "numerator_sum": 5,
                        "numerator_sum_sq": 5,
                        "denominator_sum": 10,
                        "denominator_sum_sq": 12,
                        "sum_product": 6,
                        "covariate": {},
                    }
                    for v in "AB"
                },
            }
        ],
    }
    with pytest.raises(InputError, match=r"metrics\.rps\.variants\.A\.covariate"):
        parse_experiment(data)
