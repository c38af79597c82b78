"""Drift statistics, each with one precise definition.

- PSI: sum_i (q_i - p_i) * ln(q_i / p_i) over bins, p = baseline share, q = current share,
  natural log. Empty bins would make it infinite, so both shares are floored at
  `PSI_EPSILON` = 1e-4 (one in ten thousand) before the sum; shares are not renormalised.
- Jensen-Shannon *distance* with log base 2: sqrt of the JS divergence in bits, in [0, 1]
  (scipy.spatial.distance.jensenshannon(p, q, base=2)).
- KS: sup_x |F_b(x) - F_c(x)|. With the exact values of both sides it is scipy's ks_2samp
  statistic with its exact p-value (scipy's exact method; both sides then hold at most
  `max_exact` <= 10,000 values). Otherwise it is evaluated at the baseline's bin edges,
  the only points where both CDFs are known from profiles. That is a lower bound of the
  exact statistic (missing the true supremum by at most the mass of one fine bin), so its
  p-value, from the asymptotic distribution scipy uses (kstwo.sf(D, round(n*m/(n+m)))),
  is conservative.
- Wasserstein-1 divided by the baseline's population standard deviation: a shift of
  0.25 sigma scores 0.25. With exact values it is scipy.stats.wasserstein_distance; from
  profiles it is sum over bins of |integral over the bin of (F_b - F_c)|, where each
  integral is exact from per-bin counts and sums. That is a lower bound, equal to the true
  distance whenever F_b - F_c keeps its sign within each bin (any location shift of the
  same distribution does).
- L-infinity: max_i |p_i - q_i| over categories (largest change of one category's share).
- Chi-square: scipy.stats.chi2_contingency on the 2 x k table of counts without Yates'
  continuity correction, dropping categories absent from both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.spatial.distance import jensenshannon

from lambdas.drift.numeric_profile import NumericProfile

PSI_EPSILON = 1e-4

Counts = ArrayLike


def shares(counts: Counts) -> NDArray[np.float64]:
    array = np.asarray(counts, dtype=np.float64)
    total = float(array.sum())
    return array / total if total else np.zeros(array.size)


def psi(baseline_counts: Counts, current_counts: Counts, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index over matching bins (see module docstring)."""
    p = np.maximum(shares(baseline_counts), epsilon)
    q = np.maximum(shares(current_counts), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(baseline_counts: Counts, current_counts: Counts) -> float:
    """Jensen-Shannon distance, log base 2, in [0, 1]."""
    value = jensenshannon(shares(baseline_counts), shares(current_counts), base=2.0)
    # rounding can leave a tiny negative divergence, which scipy turns into NaN
    return float(np.nan_to_num(value, nan=0.0))


def linf(baseline_counts: Counts, current_counts: Counts) -> float:
    """Largest absolute change of one bin's (category's) share."""
    return float(np.max(np.abs(shares(baseline_counts) - shares(current_counts))))


@dataclass(frozen=True)
class KsResult:
    statistic: float
    p_value: float
    method: str  # "exact" | "asymptotic_binned"


def ks_from_profiles(baseline: NumericProfile, current: NumericProfile) -> KsResult:
    """Two-sided KS statistic and p-value under the exact/binned rule of the module docstring."""
    if baseline.exact is not None and current.exact is not None:
        result = stats.ks_2samp(baseline.exact, current.exact, method="exact")
        return KsResult(float(result.statistic), float(result.pvalue), "exact")
    cdf_b = np.cumsum(baseline.counts)[:-1] / baseline.n
    cdf_c = np.cumsum(current.counts)[:-1] / current.n
    statistic = float(np.max(np.abs(cdf_b - cdf_c))) if cdf_b.size else 0.0
    return KsResult(statistic, ks_asymptotic_p_value(statistic, baseline.n, current.n), "asymptotic_binned")


def ks_asymptotic_p_value(statistic: float, n1: int, n2: int) -> float:
    """scipy ks_2samp's asymptotic two-sided p-value."""
    m, n = max(n1, n2), min(n1, n2)
    effective = np.round(m * n / (m + n))
    return float(np.clip(stats.kstwo.sf(statistic, effective), 0.0, 1.0))


def bin_cdf_integrals(profile: NumericProfile) -> NDArray[np.float64]:
    """Integral of the empirical CDF over each bin, up to a term common to both sides.

    Over [a, b) holding c values that sum to s, with C values below a:
    integral of F = C (b - a) / n + (c b - s) / n. The outer bins use a = b = e_0 and
    a = b = e_{k-1} (the parts beyond the data cancel between two distributions because
    both CDFs are 0 below, and 1 above, all the data).
    """
    n = profile.n
    edges = profile.edges
    upper = np.concatenate((edges, edges[-1:]))  # right end of every bin; last bin anchored at e_{k-1}
    lower = np.concatenate((edges[:1], edges))
    below = np.concatenate(([0], np.cumsum(profile.counts)[:-1]))
    return (below * (upper - lower) + profile.counts * upper - profile.sums) / n


def wasserstein_from_profiles(baseline: NumericProfile, current: NumericProfile) -> tuple[float, str]:
    """Wasserstein-1 divided by the baseline standard deviation, and how it was computed."""
    scale = baseline.std
    if baseline.exact is not None and current.exact is not None:
        raw = float(stats.wasserstein_distance(baseline.exact, current.exact))
        method = "exact"
    elif baseline.edges.size == 0:
        raw = abs(current.mean - baseline.mean)  # one bin: only the means are known
        method = "means"
    else:
        raw = float(np.sum(np.abs(bin_cdf_integrals(baseline) - bin_cdf_integrals(current))))
        method = "binned"
    return (raw / scale if scale > 0 else float("nan")), method


@dataclass(frozen=True)
class Chi2Result:
    statistic: float
    p_value: float
    dof: int


def chi_square(baseline_counts: Counts, current_counts: Counts) -> Chi2Result:
    """Chi-square test of homogeneity on the 2 x k table (no continuity correction)."""
    table = np.vstack((baseline_counts, current_counts)).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return Chi2Result(0.0, 1.0, 0)
    result = stats.chi2_contingency(table, correction=False)
    return Chi2Result(float(result.statistic), float(result.pvalue), int(result.dof))


def coarse_bin_labels(baseline_counts: NDArray[np.int64], groups: int) -> NDArray[np.int64]:
    """Group the fine bins into about `groups` bins of equal baseline mass (deciles by default).

    Fine bin j goes to group floor(share of baseline below it * groups), so 100 percentile
    bins become the 10 decile bins PSI is usually quoted on; tied quantiles give fewer groups.
    """
    total = baseline_counts.sum()
    below = np.concatenate(([0], np.cumsum(baseline_counts)[:-1]))
    labels = np.minimum((below * groups) // max(total, 1), groups - 1)
    _, dense = np.unique(labels, return_inverse=True)
    return dense.astype(np.int64)


def histogram_counts(
    baseline: NumericProfile, current: NumericProfile, groups: int = 10
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Counts for PSI and JS: coarse bins over all values (infinities in the end bins) plus a NaN bin."""
    labels = coarse_bin_labels(baseline.counts, groups)
    size = int(labels.max()) + 1

    def one(profile: NumericProfile) -> NDArray[np.int64]:
        counts = np.bincount(labels, weights=profile.counts, minlength=size).astype(np.int64)
        counts[0] += profile.neg_inf_count
        counts[-1] += profile.pos_inf_count
        return np.append(counts, profile.nan_count)

    return one(baseline), one(current)
