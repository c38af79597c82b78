"""Sample size, power and MDE against statsmodels, and a power simulation at the planned sample."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

from lambdas.ab_analysis import power
from lambdas.ab_analysis.frequentist import welch_test
from lambdas.ab_analysis.summaries import Estimate


@pytest.mark.parametrize(("effect", "sd", "share"), [(0.1, 1.0, 0.5), (2.0, 15.0, 0.5), (0.05, 0.7, 0.2)])
def test_required_sample_size_matches_normal_ind_power(effect: float, sd: float, share: float) -> None:
    ratio = (1 - share) / share
    nobs_control = NormalIndPower().solve_power(effect_size=effect / sd, alpha=0.05, power=0.8, ratio=ratio)
    ours = power.required_sample_size(effect, sd * sd, control_share=share, alpha=0.05, power=0.8)
    assert ours * share == pytest.approx(nobs_control, rel=1e-4)


@pytest.mark.parametrize("total_n", [200, 1000, 5000])
def test_power_at_matches_normal_ind_power(total_n: int) -> None:
    ref = NormalIndPower().power(effect_size=0.1, nobs1=total_n / 2, alpha=0.05, ratio=1.0)
    assert power.power_at(total_n, 0.1, 1.0, alpha=0.05) == pytest.approx(ref, rel=1e-9)


def test_minimum_detectable_effect_inverts_the_sample_size() -> None:
    n = power.required_sample_size(0.25, 4.0, 9.0, control_share=0.3, alpha=0.01, power=0.9)
    mde = power.minimum_detectable_effect(n, 4.0, 9.0, control_share=0.3, alpha=0.01, power=0.9)
    assert mde == pytest.approx(0.25, rel=1e-9)
    ref = NormalIndPower().solve_power(effect_size=None, nobs1=500, alpha=0.05, power=0.8, ratio=1.0)
    assert power.minimum_detectable_effect(1000, 1.0) == pytest.approx(ref, rel=1e-4)


@pytest.mark.parametrize(("p_control", "effect"), [(0.1, 0.02), (0.03, 0.005), (0.5, -0.05)])
def test_proportion_sample_size_matches_statsmodels(p_control: float, effect: float) -> None:
    ref = samplesize_proportions_2indep_onetail(effect, p_control, power=0.8, ratio=1, alpha=0.05)
    assert power.proportion_sample_size(p_control, effect) / 2 == pytest.approx(ref, rel=1e-9)


def test_simulated_power_at_the_planned_sample_matches_the_target() -> None:
    rng = np.random.default_rng(42)
    sd, effect, sims = 2.0, 0.3, 2000
    per_arm = math.ceil(power.required_sample_size(effect, sd * sd, power=0.8) / 2)
    # Normal data: the sample mean and variance are independent, mean ~ N, (n-1)s^2/sd^2 ~ chi2(n-1).
    means_c = rng.normal(0.0, sd / math.sqrt(per_arm), sims)
    means_t = rng.normal(effect, sd / math.sqrt(per_arm), sims)
    vars_c = sd * sd * rng.chisquare(per_arm - 1, sims) / (per_arm - 1)
    vars_t = sd * sd * rng.chisquare(per_arm - 1, sims) / (per_arm - 1)
    rejected = [
        welch_test(Estimate(per_arm, mc, vc), Estimate(per_arm, mt, vt), 0.05).p_value < 0.05
        for mc, mt, vc, vt in zip(means_c, means_t, vars_c, vars_t, strict=True)
    ]
    rate = float(np.mean(rejected))
    assert abs(rate - 0.8) < 3 * math.sqrt(0.8 * 0.2 / sims)


def test_progress_is_capped_at_one() -> None:
    assert power.progress(500, 2000) == 0.25
    assert power.progress(5000, 2000) == 1.0


def test_sequential_plan_inverts_its_power_and_costs_about_twice_the_fixed_sample() -> None:
    n_seq = power.sequential_required_sample_size(0.1, 1.0, alpha=0.05, power=0.8)
    assert power.sequential_power_at(n_seq, 0.1, 1.0, alpha=0.05) == pytest.approx(0.8, rel=1e-9)
    ratio = n_seq / power.required_sample_size(0.1, 1.0, alpha=0.05, power=0.8)
    assert ratio == pytest.approx(1.915, abs=0.01)
