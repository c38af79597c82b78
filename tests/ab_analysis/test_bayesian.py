"""Chance to win and expected loss against closed forms, numerical integration and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from lambdas.ab_analysis.bayesian import bayesian_view


@pytest.mark.parametrize(("difference", "se"), [(0.3, 0.2), (-0.1, 0.5), (0.0, 1.0)])
def test_chance_to_win_is_the_posterior_probability_of_a_positive_effect(
    difference: float, se: float
) -> None:
    assert bayesian_view(difference, se).chance_to_win == pytest.approx(
        stats.norm.cdf(difference / se), rel=1e-12
    )
    samples = np.random.default_rng(0).normal(difference, se, 200_000)
    assert bayesian_view(difference, se).chance_to_win == pytest.approx((samples > 0).mean(), abs=0.005)


@pytest.mark.parametrize(("difference", "se"), [(0.3, 0.2), (-0.1, 0.5), (0.0, 1.0)])
def test_expected_loss_matches_numerical_integration(difference: float, se: float) -> None:
    reference, _ = integrate.quad(lambda x: max(-x, 0.0) * stats.norm.pdf(x, difference, se), -np.inf, 0)
    assert bayesian_view(difference, se).expected_loss == pytest.approx(reference, rel=1e-7)


def test_lower_is_better_metrics_flip_the_direction() -> None:
    higher = bayesian_view(-2.0, 1.0, higher_is_better=True)
    lower = bayesian_view(-2.0, 1.0, higher_is_better=False)
    assert lower.chance_to_win == pytest.approx(1 - higher.chance_to_win)
    assert lower.expected_loss < higher.expected_loss
