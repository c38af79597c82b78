"""CUPED: variance reduction with a pre-experiment covariate (Deng et al., 2013).

One slope ``theta`` is pooled across all variants (the within-variant regression of y on
x), so the adjusted difference between two variants equals the treatment coefficient of
the ANCOVA regression ``y ~ variant + x`` and stays unbiased: x was measured before
assignment, so its mean does not differ between variants except by chance.
"""

from __future__ import annotations

from collections.abc import Mapping

from lambdas.ab_analysis.summaries import (
    Estimate,
    MeanSums,
    ProportionSums,
    centred_cross_product,
    centred_sum_of_squares,
    check_correlation,
)
from lambdas.common.errors import InputError


def cuped_estimates(
    sums: Mapping[str, MeanSums | ProportionSums], where: str
) -> tuple[dict[str, Estimate], float]:
    """Return the covariate-adjusted estimate of every variant and the pooled slope theta."""
    moments: dict[str, tuple[float, float, float]] = {}
    total_x = 0.0
    total_n = 0
    for variant, s in sums.items():
        cov = s.covariate
        if cov is None:
            raise InputError.single(
                f"{where}.variants.{variant}.covariate",
                "is missing; give the covariate for every variant of the metric or for none",
            )
        at = f"{where}.variants.{variant}"
        cyy = centred_sum_of_squares(s.n, s.sum, s.sum_sq, at, "sum_sq")
        cxx = centred_sum_of_squares(s.n, cov.sum, cov.sum_sq, f"{at}.covariate", "sum_sq")
        cxy = centred_cross_product(s.n, cov.sum, s.sum, cov.sum_product)
        check_correlation(cxx, cyy, cxy, f"{at}.covariate", "sum_product")
        moments[variant] = (cyy, cxx, cxy)
        total_x += cov.sum
        total_n += s.n
    pooled_cxx = sum(m[1] for m in moments.values())
    pooled_cxy = sum(m[2] for m in moments.values())
    theta = pooled_cxy / pooled_cxx if pooled_cxx > 0 else 0.0
    grand_mean_x = total_x / total_n
    estimates: dict[str, Estimate] = {}
    for variant, s in sums.items():
        cyy, cxx, cxy = moments[variant]
        cov = s.covariate
        assert cov is not None
        mean_y = s.sum / s.n
        mean_x = cov.sum / s.n
        adjusted_mean = mean_y - theta * (mean_x - grand_mean_x)
        variance = (cyy - 2 * theta * cxy + theta * theta * cxx) / (s.n - 1)
        estimates[variant] = Estimate(s.n, adjusted_mean, max(variance, 0.0))
    return estimates, theta
