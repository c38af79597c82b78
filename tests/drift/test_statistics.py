"""Every statistic against scipy / statsmodels or a worked example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from statsmodels.stats.multitest import multipletests

from lambdas.drift.multiple_testing import adjust, benjamini_hochberg, holm
from lambdas.drift.numeric_profile import profile_numeric
from lambdas.drift.statistics import (
    PSI_EPSILON,
    chi_square,
    coarse_bin_labels,
    js_distance,
    ks_asymptotic_p_value,
    ks_from_profiles,
    linf,
    psi,
    wasserstein_from_profiles,
)


def test_psi_worked_example_equals_half_ln2():
    # p = (1/4, 1/4, 1/2), q = (1/2, 1/4, 1/4): 1/4 ln 2 + 0 + (-1/4) ln(1/2) = ln(2) / 2
    assert psi([25, 25, 50], [50, 25, 25]) == pytest.approx(math.log(2) / 2, rel=1e-12)


def test_psi_floors_empty_bins_at_documented_epsilon():
    assert PSI_EPSILON == 1e-4
    # baseline bin 3 is empty: -0.1 ln(0.8) + (0.1 - 1e-4) ln(0.1 / 1e-4), by hand 0.712399107
    assert psi([50, 50, 0], [50, 40, 10]) == pytest.approx(0.712399107, abs=1e-8)


def test_psi_of_identical_distributions_is_zero():
    assert psi([3, 5, 7], [30, 50, 70]) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    ("p", "q"),
    [([1, 0], [0, 1]), ([10, 20, 30], [30, 20, 10]), ([5, 5, 5, 5], [1, 2, 3, 4]), ([1, 2], [1, 2])],
)
def test_js_distance_is_scipy_jensenshannon_base2(p, q):
    expected = jensenshannon(np.array(p) / sum(p), np.array(q) / sum(q), base=2)
    assert js_distance(p, q) == pytest.approx(expected, abs=1e-12)


def test_js_distance_of_disjoint_supports_is_one():
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)


def test_linf_is_largest_share_change():
    assert linf([50, 50], [60, 40]) == pytest.approx(0.1)


def _exact_pair(a, b):
    base = profile_numeric(a, bins=10)
    return base, profile_numeric(b, edges=base.edges)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ks_with_exact_values_equals_scipy_exact(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=80)
    b = rng.normal(0.3, 1.2, size=57)
    base, cur = _exact_pair(a, b)
    expected = stats.ks_2samp(a, b, method="exact")
    got = ks_from_profiles(base, cur)
    assert got.method == "exact"
    assert got.statistic == pytest.approx(expected.statistic, abs=1e-15)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_ks_with_ties_equals_scipy():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, size=200).astype(float)
    b = rng.integers(0, 6, size=150).astype(float)
    base, cur = _exact_pair(a, b)
    expected = stats.ks_2samp(a, b, method="exact")
    got = ks_from_profiles(base, cur)
    assert (got.statistic, got.p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)


def test_binned_ks_is_a_lower_bound_and_within_one_fine_bin_of_scipy():
    rng = np.random.default_rng(4)
    a = rng.normal(size=20_000)
    b = rng.normal(0.05, 1.1, size=30_000)
    base = profile_numeric(a, bins=100)
    cur = profile_numeric(b, edges=base.edges)
    assert base.exact is None and cur.exact is None
    got = ks_from_profiles(base, cur)
    exact = stats.ks_2samp(a, b)
    assert got.method == "asymptotic_binned"
    assert got.statistic <= exact.statistic + 1e-12
    # the sup is missed by at most the largest fine-bin mass on either side
    largest_bin = max(base.counts.max() / base.n, cur.counts.max() / cur.n)
    assert exact.statistic - got.statistic <= largest_bin


def test_asymptotic_p_value_equals_scipy_asymp_for_the_same_statistic():
    rng = np.random.default_rng(5)
    a = rng.normal(size=3000)
    b = rng.normal(0.08, size=2000)
    expected = stats.ks_2samp(a, b, method="asymp")
    assert ks_asymptotic_p_value(expected.statistic, a.size, b.size) == pytest.approx(
        expected.pvalue, rel=1e-12
    )


def test_wasserstein_with_exact_values_is_scipy_over_baseline_std():
    rng = np.random.default_rng(6)
    a = rng.gamma(2.0, size=400)
    b = rng.gamma(2.5, size=300)
    base, cur = _exact_pair(a, b)
    value, method = wasserstein_from_profiles(base, cur)
    assert method == "exact"
    assert value == pytest.approx(stats.wasserstein_distance(a, b) / a.std(), rel=1e-12)


@pytest.mark.parametrize("shift", [0.02, 0.25, 1.0, -3.0])
def test_binned_wasserstein_is_exact_for_a_location_shift(shift):
    rng = np.random.default_rng(7)
    a = rng.lognormal(size=50_000)
    b = a + shift  # the same sample moved: the CDF difference keeps one sign everywhere
    base = profile_numeric(a, bins=100)
    cur = profile_numeric(b, edges=base.edges)
    value, method = wasserstein_from_profiles(base, cur)
    assert method == "binned"
    expected = stats.wasserstein_distance(a, b) / a.std()
    assert value == pytest.approx(expected, rel=1e-9)


def test_binned_wasserstein_is_a_close_lower_bound_for_a_scale_change():
    rng = np.random.default_rng(8)
    a = rng.normal(size=50_000)
    b = rng.normal(scale=1.5, size=50_000)
    base = profile_numeric(a, bins=100)
    value, _ = wasserstein_from_profiles(base, profile_numeric(b, edges=base.edges))
    expected = stats.wasserstein_distance(a, b) / a.std()
    assert expected * 0.95 <= value <= expected + 1e-12


def test_chi_square_equals_scipy_chi2_contingency_without_correction():
    baseline, current = [120, 80, 40, 0], [90, 70, 60, 0]
    table = np.array([baseline[:3], current[:3]])
    expected = stats.chi2_contingency(table, correction=False)
    got = chi_square(baseline, current)
    assert got.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert got.dof == expected.dof == 2


def test_chi_square_with_one_category_is_no_evidence():
    assert chi_square([10, 0], [20, 0]).p_value == 1.0


def test_coarse_labels_turn_percentiles_into_deciles():
    labels = coarse_bin_labels(np.full(100, 7, dtype=np.int64), 10)
    assert labels.tolist() == [i // 10 for i in range(100)]


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_adjusted_p_values_equal_statsmodels(method):
    p = np.random.default_rng(9).uniform(size=40) ** 3
    expected = multipletests(p, method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
    assert np.allclose(adjust(p, method), expected, rtol=1e-12, atol=0)
    assert np.allclose({"holm": holm, "bh": benjamini_hochberg}[method](p), expected, rtol=1e-12)


def test_unknown_correction_is_refused():
    with pytest.raises(ValueError, match="unknown correction"):
        adjust([0.1], "bonferroni-ish")
