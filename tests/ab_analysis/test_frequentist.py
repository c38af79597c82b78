"""Welch, two-proportion, relative-lift and ratio tests against scipy, statsmodels and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from lambdas.ab_analysis.frequentist import lift, two_proportion_test, welch_test, z_test
from lambdas.ab_analysis.summaries import Estimate, ProportionSums, RatioSums
from tests.ab_analysis.sums import mean_estimate


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_welch_matches_scipy_ttest_ind_unequal_variances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(10.0, 3.0, 400)
    b = rng.normal(10.4, 5.0, 250)
    ours = welch_test(mean_estimate(a), mean_estimate(b), alpha=0.05)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert ours.lift.df == pytest.approx(ref.df, rel=1e-9)
    assert ours.ci_absolute[0] == pytest.approx(ci.low, rel=1e-9)
    assert ours.ci_absolute[1] == pytest.approx(ci.high, rel=1e-9)


def test_welch_matches_scipy_from_published_issue_summary() -> None:
    control = Estimate(3407, 1396.87 / 3407, (52377.9767 - 1396.87**2 / 3407) / 3406)
    treatment = Estimate(3320, 1700.0 / 3320, 4 * 4.1)
    ours = welch_test(control, treatment, alpha=0.05)
    ref = stats.ttest_ind_from_stats(
        treatment.mean,
        math.sqrt(treatment.variance),
        treatment.n,
        control.mean,
        math.sqrt(control.variance),
        control.n,
        equal_var=False,
    )
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize(
    ("x_c", "n_c", "x_t", "n_t"), [(300, 3407, 350, 3320), (12, 500, 25, 480), (0, 100, 3, 90)]
)
def test_two_proportion_test_matches_statsmodels(x_c: int, n_c: int, x_t: int, n_t: int) -> None:
    control = ProportionSums(n_c, x_c).estimate("c")
    treatment = ProportionSums(n_t, x_t).estimate("t")
    ours = two_proportion_test(control, treatment, alpha=0.05)
    _, p_ref = proportions_ztest([x_t, x_c], [n_t, n_c])
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff", alpha=0.05)
    assert ours.p_value == pytest.approx(p_ref, rel=1e-9)
    assert ours.ci_absolute[0] == pytest.approx(low, rel=1e-9)
    assert ours.ci_absolute[1] == pytest.approx(high, rel=1e-9)


def test_two_proportion_test_with_no_events_in_either_arm_is_not_significant() -> None:
    result = two_proportion_test(
        ProportionSums(500, 0).estimate("c"), ProportionSums(480, 0).estimate("t"), 0.05
    )
    assert result.p_value == 1.0
    assert result.ci_absolute == (0.0, 0.0)


def test_relative_lift_keeps_its_sign_when_the_control_mean_is_negative() -> None:
    # Profit per user: control loses 10, treatment loses 8, an improvement of 20 %.
    control = Estimate(1000, -10.0, 25.0)
    treatment = Estimate(1000, -8.0, 25.0)
    result = welch_test(control, treatment, alpha=0.05)
    assert result.lift.relative == pytest.approx(0.2)
    assert result.ci_relative is not None
    assert result.ci_relative[0] > 0
    # A plain ratio mean_t / mean_c - 1 would report -20 %.
    assert treatment.mean / control.mean - 1 == pytest.approx(-0.2)


@pytest.mark.parametrize("control_mean", [5.0, -5.0])
def test_delta_method_relative_variance_matches_simulation(control_mean: float) -> None:
    rng = np.random.default_rng(7)
    n, sims = 400, 20000
    treatment_mean = control_mean + 0.5
    mc = rng.normal(control_mean, 4.0 / math.sqrt(n), sims)
    mt = rng.normal(treatment_mean, 6.0 / math.sqrt(n), sims)
    simulated = (mt - mc) / np.abs(mc)
    analytic = lift(Estimate(n, control_mean, 16.0), Estimate(n, treatment_mean, 36.0))
    assert analytic.relative_se is not None
    assert analytic.relative_se == pytest.approx(simulated.std(), rel=0.03)
    assert analytic.relative == pytest.approx(
        simulated.mean(), abs=3 * simulated.std() / math.sqrt(sims) + 1e-3
    )


def test_relative_lift_is_undefined_for_a_zero_control_mean() -> None:
    result = welch_test(Estimate(100, 0.0, 1.0), Estimate(100, 0.3, 1.0), alpha=0.05)
    assert result.lift.relative is None
    assert result.ci_relative is None


def test_ratio_delta_method_variance_matches_simulation() -> None:
    rng = np.random.default_rng(11)
    n, sims = 300, 4000
    sessions = rng.poisson(3.0, (sims, n)) + 1.0
    revenue = sessions * rng.gamma(2.0, 1.5, (sims, n))
    ratios = revenue.sum(axis=1) / sessions.sum(axis=1)
    m, d = revenue[0], sessions[0]
    estimate = RatioSums(n, m.sum(), (m * m).sum(), d.sum(), (d * d).sum(), (m * d).sum()).estimate("r")
    assert estimate.mean == pytest.approx(m.sum() / d.sum())
    assert math.sqrt(estimate.variance / n) == pytest.approx(ratios.std(), rel=0.08)


def test_ratio_z_test_coverage_is_nominal_under_the_null() -> None:
    rng = np.random.default_rng(5)
    n, sims = 500, 1500
    rejections = 0
    for _ in range(sims):
        d_c, d_t = rng.poisson(2.0, n) + 1.0, rng.poisson(2.0, n) + 1.0
        m_c, m_t = d_c * rng.exponential(3.0, n), d_t * rng.exponential(3.0, n)
        c = RatioSums(n, m_c.sum(), (m_c**2).sum(), d_c.sum(), (d_c**2).sum(), (m_c * d_c).sum()).estimate(
            "c"
        )
        t = RatioSums(n, m_t.sum(), (m_t**2).sum(), d_t.sum(), (d_t**2).sum(), (m_t * d_t).sum()).estimate(
            "t"
        )
        rejections += z_test(c, t, 0.05).p_value < 0.05
    rate = rejections / sims
    assert abs(rate - 0.05) < 3 * math.sqrt(0.05 * 0.95 / sims)
