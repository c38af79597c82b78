"""Sample ratio mismatch against scipy's chi-square, and its detection and false-alarm rates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lambdas.ab_analysis.srm import sample_ratio_mismatch


def test_srm_matches_scipy_chisquare_for_three_arms() -> None:
    counts = {"A": 5020, "B": 2480, "C": 2600}
    weights = {"A": 0.5, "B": 0.25, "C": 0.25}
    ref = stats.chisquare([5020, 2480, 2600], f_exp=[10100 * 0.5, 10100 * 0.25, 10100 * 0.25])
    result = sample_ratio_mismatch(counts, weights)
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_srm_flags_a_half_point_skew_on_two_hundred_thousand_units() -> None:
    result = sample_ratio_mismatch({"A": 101_000, "B": 99_000}, {"A": 0.5, "B": 0.5})
    assert result.mismatch
    assert result.p_value < 0.001


def test_srm_does_not_flag_a_split_consistent_with_the_weights() -> None:
    assert not sample_ratio_mismatch({"A": 10_050, "B": 9_950}, {"A": 0.5, "B": 0.5}).mismatch


def test_srm_detects_most_broken_splits_and_rarely_flags_correct_ones() -> None:
    rng = np.random.default_rng(1)
    sims, total = 20_000, 40_000
    healthy = rng.binomial(total, 0.5, sims)
    broken = rng.binomial(total, 0.51, sims)
    healthy_flags = [
        sample_ratio_mismatch({"A": int(a), "B": total - int(a)}, {"A": 0.5, "B": 0.5}).mismatch
        for a in healthy
    ]
    broken_flags = [
        sample_ratio_mismatch({"A": int(a), "B": total - int(a)}, {"A": 0.5, "B": 0.5}).mismatch
        for a in broken
    ]
    # Expected false alarms 20 (0.1 %); a 51/49 split at 40k units gives z ~ 4 and is found ~ 0.8 of the time.
    assert sum(healthy_flags) <= 20 + 4 * np.sqrt(20)
    assert np.mean(broken_flags) > 0.7
