"""Numeric feature profile: frozen quantile bins, per-bin sums, mergeable moments, exact values.

Bins: the baseline's quantiles give strictly increasing interior edges e_0 < ... < e_{k-1};
bin 0 is (-inf, e_0), bin j is [e_{j-1}, e_j), bin k is [e_{k-1}, +inf). The edges are
frozen when the baseline is profiled: every later profile of the same feature is built on
them, which is what makes profiles of partitions add up to the profile of their union.

NaN and +/-inf are counted apart from the finite values; counts, sums and moments describe
finite values only.

Exact values: while a profile holds at most `max_exact` finite values it keeps all of
them, sorted; beyond that it keeps none. This "all or nothing" rule is the only bounded
sample that is both deterministic and mergeable: the merge of partitions holds the exact
values iff the single pass would, and then holds the same sorted multiset. Exact tests
therefore run precisely when the data is small, which is when they matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lambdas.common.errors import InputError

DEFAULT_BINS = 100
DEFAULT_MAX_EXACT = 5000

# Anything a column may arrive as: numpy arrays, lists with None, pyarrow-converted lists.
Column = ArrayLike | Sequence[Any]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class NumericProfile:
    """Summary of one numeric column, on bins frozen at baseline time."""

    edges: FloatArray
    counts: IntArray
    sums: FloatArray
    nan_count: int
    neg_inf_count: int
    pos_inf_count: int
    mean: float
    m2: float
    minimum: float
    maximum: float
    max_exact: int
    exact: FloatArray | None

    kind = "numeric"

    @property
    def n(self) -> int:
        """Number of finite values."""
        return int(self.counts.sum())

    @property
    def total(self) -> int:
        """Number of rows, including NaN and infinite values."""
        return self.n + self.nan_count + self.neg_inf_count + self.pos_inf_count

    @property
    def inf_count(self) -> int:
        return self.neg_inf_count + self.pos_inf_count

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0) of the finite values; NaN if there are none."""
        return float(np.sqrt(self.m2 / self.n)) if self.n else float("nan")

    @property
    def is_constant(self) -> bool:
        return self.n > 0 and self.minimum == self.maximum

    def same_bins(self, other: NumericProfile) -> bool:
        return self.edges.shape == other.edges.shape and bool(np.all(self.edges == other.edges))


def quantile_edges(sorted_finite: FloatArray, bins: int) -> FloatArray:
    """Strictly increasing interior edges at the 1/bins .. (bins-1)/bins quantiles.

    Linear interpolation between order statistics (numpy's default quantile method); tied
    quantiles collapse into one edge, so discrete data gets fewer, still valid, bins.
    """
    n = sorted_finite.size
    if n == 0 or bins < 2:
        return np.empty(0, dtype=np.float64)
    h = (n - 1) * np.arange(1, bins, dtype=np.float64) / bins
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = h - lo
    edges = sorted_finite[lo] + frac * (sorted_finite[hi] - sorted_finite[lo])
    return np.unique(edges)


def as_float_array(values: Column, feature: str) -> FloatArray:
    """Float64 view of a column; None and empty strings become NaN. Non-numeric values are an InputError."""
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        pass
    items = np.asarray(values, dtype=object).ravel()
    out = np.empty(items.size, dtype=np.float64)
    for i, value in enumerate(items.tolist()):
        if value is None or (isinstance(value, str) and not value.strip()):
            out[i] = np.nan  # an empty CSV field is a missing value, not bad input
            continue
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            raise InputError.single(feature, f"value {value!r} at row {i} is not a number") from None
    return out


def profile_numeric(
    values: Column,
    *,
    edges: FloatArray | None = None,
    bins: int = DEFAULT_BINS,
    max_exact: int = DEFAULT_MAX_EXACT,
    feature: str = "value",
) -> NumericProfile:
    """Profile one column. Without `edges` the bins come from this data (a baseline)."""
    data = np.sort(as_float_array(values, feature))
    total = data.size
    # np.sort orders -inf < finite < +inf < NaN, so four binary searches split the column.
    first_finite = int(np.searchsorted(data, -np.inf, side="right"))
    first_pos_inf = int(np.searchsorted(data, np.inf, side="left"))
    first_nan = int(np.searchsorted(data, np.inf, side="right"))
    finite = data[first_finite:first_pos_inf]
    if edges is None:
        edges = quantile_edges(finite, bins)
    edges = np.asarray(edges, dtype=np.float64)
    starts = np.concatenate(([0], np.searchsorted(finite, edges, side="left")))
    stops = np.concatenate((starts[1:], [finite.size]))
    counts = (stops - starts).astype(np.int64)
    sums = np.zeros(counts.size, dtype=np.float64)
    if finite.size:
        # reduceat returns the element at the start of an empty segment; zero those bins.
        sums = np.add.reduceat(finite, np.minimum(starts, finite.size - 1))
        sums[counts == 0] = 0.0
    n = finite.size
    mean = float(finite.mean()) if n else 0.0
    m2 = float(np.dot(finite - mean, finite - mean)) if n else 0.0
    return NumericProfile(
        edges=edges,
        counts=counts,
        sums=sums,
        nan_count=total - first_nan,
        neg_inf_count=first_finite,
        pos_inf_count=first_nan - first_pos_inf,
        mean=mean,
        m2=m2,
        minimum=float(finite[0]) if n else float("nan"),
        maximum=float(finite[-1]) if n else float("nan"),
        max_exact=max_exact,
        exact=finite.copy() if n <= max_exact else None,
    )


def merge_numeric(a: NumericProfile, b: NumericProfile, feature: str = "value") -> NumericProfile:
    """Profile of the union of the two partitions (Chan et al. for the moments)."""
    if not a.same_bins(b):
        raise InputError.single(feature, "profiles were built on different bin edges and cannot be merged")
    if a.max_exact != b.max_exact:
        raise InputError.single(feature, "profiles disagree on max_exact and cannot be merged")
    n_a, n_b = a.n, b.n
    n = n_a + n_b
    if n_a == 0:
        mean, m2 = b.mean, b.m2
    elif n_b == 0:
        mean, m2 = a.mean, a.m2
    else:
        delta = b.mean - a.mean
        mean = a.mean + delta * n_b / n
        m2 = a.m2 + b.m2 + delta * delta * n_a * n_b / n
    exact = None
    if a.exact is not None and b.exact is not None and n <= a.max_exact:
        exact = np.sort(np.concatenate((a.exact, b.exact)))
    return NumericProfile(
        edges=a.edges,
        counts=a.counts + b.counts,
        sums=a.sums + b.sums,
        nan_count=a.nan_count + b.nan_count,
        neg_inf_count=a.neg_inf_count + b.neg_inf_count,
        pos_inf_count=a.pos_inf_count + b.pos_inf_count,
        mean=mean,
        m2=m2,
        minimum=float(np.fmin(a.minimum, b.minimum)),
        maximum=float(np.fmax(a.maximum, b.maximum)),
        max_exact=a.max_exact,
        exact=exact,
    )
