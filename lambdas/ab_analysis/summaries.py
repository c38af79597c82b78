"""Per-variant summary statistics and the per-unit moments the tests are built from.

Each metric type reduces its sufficient statistics to an ``Estimate``: the number of
units, the point estimate of the per-unit mean (or ratio) and the per-unit variance such
that the variance of the point estimate is ``variance / n``. Comparisons only ever see
``Estimate`` objects, which is what lets mean, proportion, ratio and CUPED-adjusted metrics
share one set of tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lambdas.common.errors import InputError

# Sums of squares are accumulated in floating point upstream; a variance this far below
# zero relative to the magnitudes involved is rounding, anything further is bad data.
_ROUNDING = 1e-9


@dataclass(frozen=True)
class Estimate:
    """Point estimate of a per-unit quantity with its per-unit variance."""

    n: int
    mean: float
    variance: float

    @property
    def standard_error_sq(self) -> float:
        return self.variance / self.n


def centred_sum_of_squares(n: float, total: float, total_sq: float, where: str, field: str) -> float:
    """Return ``sum((x - mean)^2)`` from raw sums, rejecting sums that make it negative."""
    centred = total_sq - total * total / n
    scale = max(abs(total_sq), total * total / n, 1.0)
    if centred < -_ROUNDING * scale:
        raise InputError.single(
            f"{where}.{field}",
            f"the variance would be negative ({field}={total_sq!r} is smaller than sum^2/n="
            f"{total * total / n!r}); the sums are inconsistent, recompute them from the same units",
        )
    return max(centred, 0.0)


def centred_cross_product(n: float, sum_x: float, sum_y: float, sum_xy: float) -> float:
    return sum_xy - sum_x * sum_y / n


def check_correlation(cxx: float, cyy: float, cxy: float, where: str, field: str) -> None:
    """Reject cross sums that imply a correlation outside [-1, 1] (Cauchy-Schwarz)."""
    bound = math.sqrt(cxx * cyy)
    if abs(cxy) > bound * (1 + 1e-7) + _ROUNDING * max(abs(cxy), 1.0):
        raise InputError.single(
            f"{where}.{field}",
            "the cross product implies a correlation outside [-1, 1]; the sums are inconsistent",
        )


@dataclass(frozen=True)
class CovariateSums:
    """Pre-experiment covariate x of the same units: sum x, sum x^2 and sum x*y."""

    sum: float
    sum_sq: float
    sum_product: float


@dataclass(frozen=True)
class MeanSums:
    """A metric averaged over units: n, sum y and sum y^2 (plus an optional covariate)."""

    n: int
    sum: float
    sum_sq: float
    covariate: CovariateSums | None = None

    def estimate(self, where: str) -> Estimate:
        centred = centred_sum_of_squares(self.n, self.sum, self.sum_sq, where, "sum_sq")
        return Estimate(self.n, self.sum / self.n, centred / (self.n - 1))


@dataclass(frozen=True)
class ProportionSums:
    """A conversion metric: n units of which ``successes`` converted."""

    n: int
    successes: float
    covariate: CovariateSums | None = None

    @property
    def sum(self) -> float:
        return self.successes

    @property
    def sum_sq(self) -> float:
        # y is 0 or 1, so y^2 = y.
        return self.successes

    def estimate(self, where: str) -> Estimate:
        p = self.successes / self.n
        return Estimate(self.n, p, p * (1.0 - p))


@dataclass(frozen=True)
class RatioSums:
    """A ratio of two per-unit sums (e.g. revenue per session), analysed by the delta method.

    ``n`` counts the randomisation units; m is the numerator and d the denominator of each unit.
    """

    n: int
    numerator_sum: float
    numerator_sum_sq: float
    denominator_sum: float
    denominator_sum_sq: float
    sum_product: float

    def estimate(self, where: str) -> Estimate:
        n = self.n
        cmm = centred_sum_of_squares(n, self.numerator_sum, self.numerator_sum_sq, where, "numerator_sum_sq")
        cdd = centred_sum_of_squares(
            n, self.denominator_sum, self.denominator_sum_sq, where, "denominator_sum_sq"
        )
        cmd = centred_cross_product(n, self.numerator_sum, self.denominator_sum, self.sum_product)
        check_correlation(cmm, cdd, cmd, where, "sum_product")
        if self.denominator_sum == 0:
            raise InputError.single(f"{where}.denominator_sum", "is 0, so the ratio is undefined")
        mean_m = self.numerator_sum / n
        mean_d = self.denominator_sum / n
        var_m, var_d, cov_md = cmm / (n - 1), cdd / (n - 1), cmd / (n - 1)
        ratio = mean_m / mean_d
        # Delta method for mean_m / mean_d: gradient (1/mean_d, -mean_m/mean_d^2).
        variance = (var_m - 2 * ratio * cov_md + ratio * ratio * var_d) / (mean_d * mean_d)
        return Estimate(n, ratio, max(variance, 0.0))


VariantSums = MeanSums | ProportionSums | RatioSums
