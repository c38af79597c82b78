"""Fixed-horizon tests of one treatment against control: Welch t, two proportions, z.

All tests work on ``Estimate`` pairs. Relative lift is ``(mean_t - mean_c) / |mean_c|`` so
that a positive lift always means "the treatment's mean is higher", also when the control
mean is negative; its interval comes from the delta method.

scipy.special ufuncs are used instead of scipy.stats distributions because they are two
orders of magnitude faster per call, which keeps 10 variants x 50 metrics well under 50 ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from scipy import special

from lambdas.ab_analysis.summaries import Estimate


class TestKind(StrEnum):
    WELCH = "welch_t"
    TWO_PROPORTIONS = "two_proportion_z"
    Z = "z"


@dataclass(frozen=True)
class Lift:
    """Absolute and relative difference of treatment over control with their spread."""

    absolute: float
    absolute_se: float
    relative: float | None
    relative_se: float | None
    df: float

    @property
    def absolute_variance(self) -> float:
        return self.absolute_se**2


@dataclass(frozen=True)
class FixedTest:
    """A fixed-horizon two-sided test with its confidence intervals."""

    lift: Lift
    p_value: float
    ci_absolute: tuple[float, float]
    ci_relative: tuple[float, float] | None
    kind: TestKind


def welch_df(control: Estimate, treatment: Estimate) -> float:
    """Welch-Satterthwaite degrees of freedom."""
    vc = control.standard_error_sq
    vt = treatment.standard_error_sq
    denominator = vc * vc / (control.n - 1) + vt * vt / (treatment.n - 1)
    if denominator == 0:
        return math.inf
    return (vc + vt) ** 2 / denominator


def lift(control: Estimate, treatment: Estimate, df: float = math.inf) -> Lift:
    """Absolute and relative lift; the relative lift is undefined when the control mean is 0."""
    vc = control.standard_error_sq
    vt = treatment.standard_error_sq
    absolute = treatment.mean - control.mean
    absolute_se = math.sqrt(vc + vt)
    mc2 = control.mean * control.mean
    if mc2 == 0:
        # Also catches control means so close to 0 that their square underflows.
        return Lift(absolute, absolute_se, None, None, df)
    relative = absolute / abs(control.mean)
    ratio = treatment.mean / control.mean
    # Delta method for (mean_t - mean_c)/|mean_c|: the gradient is (1/|mc|, -+mt/mc^2),
    # whose squares do not depend on the sign of mc.
    relative_var = (vt + ratio * ratio * vc) / mc2
    if not (math.isfinite(relative) and math.isfinite(relative_var)):
        return Lift(absolute, absolute_se, None, None, df)
    return Lift(absolute, absolute_se, relative, math.sqrt(relative_var), df)


def critical_value(alpha: float, df: float) -> float:
    """Two-sided critical value of Student's t (normal when df is infinite)."""
    if math.isinf(df):
        return float(special.ndtri(1 - alpha / 2))
    return float(special.stdtrit(df, 1 - alpha / 2))


def two_sided_p(statistic: float, df: float) -> float:
    if math.isinf(df):
        return float(2 * special.ndtr(-abs(statistic)))
    return float(2 * special.stdtr(df, -abs(statistic)))


def upper_tail(statistic: float, df: float) -> float:
    """P(T >= statistic)."""
    if math.isinf(df):
        return float(special.ndtr(-statistic))
    return float(special.stdtr(df, -statistic))


def _ratio_p(estimate: float, se: float, df: float) -> float:
    if se == 0:
        return 1.0 if estimate == 0 else 0.0
    return two_sided_p(estimate / se, df)


def _intervals(lf: Lift, alpha: float) -> tuple[tuple[float, float], tuple[float, float] | None]:
    crit = critical_value(alpha, lf.df)
    ci_abs = (lf.absolute - crit * lf.absolute_se, lf.absolute + crit * lf.absolute_se)
    if lf.relative is None or lf.relative_se is None:
        return ci_abs, None
    return ci_abs, (lf.relative - crit * lf.relative_se, lf.relative + crit * lf.relative_se)


def welch_test(control: Estimate, treatment: Estimate, alpha: float) -> FixedTest:
    """Welch's unequal-variance t-test, as ``scipy.stats.ttest_ind(equal_var=False)``."""
    lf = lift(control, treatment, welch_df(control, treatment))
    ci_abs, ci_rel = _intervals(lf, alpha)
    return FixedTest(lf, _ratio_p(lf.absolute, lf.absolute_se, lf.df), ci_abs, ci_rel, TestKind.WELCH)


def z_test(control: Estimate, treatment: Estimate, alpha: float) -> FixedTest:
    """Large-sample z-test, used for delta-method ratio metrics."""
    lf = lift(control, treatment)
    ci_abs, ci_rel = _intervals(lf, alpha)
    return FixedTest(lf, _ratio_p(lf.absolute, lf.absolute_se, lf.df), ci_abs, ci_rel, TestKind.Z)


def two_proportion_test(control: Estimate, treatment: Estimate, alpha: float) -> FixedTest:
    """Two-proportion z-test: pooled variance under H0 for the p-value, unpooled (Wald) for the CI.

    Matches ``statsmodels.stats.proportion.proportions_ztest`` and
    ``confint_proportions_2indep(method="wald")``.
    """
    lf = lift(control, treatment)
    ci_abs, ci_rel = _intervals(lf, alpha)
    n_c, n_t = control.n, treatment.n
    pooled = (control.mean * n_c + treatment.mean * n_t) / (n_c + n_t)
    se_null = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    p_value = _ratio_p(lf.absolute, se_null, math.inf)
    return FixedTest(lf, p_value, ci_abs, ci_rel, TestKind.TWO_PROPORTIONS)


def non_inferiority_p(effect_good: float, margin: float, se: float, df: float) -> float:
    """One-sided p-value of H0 "the effect is worse than -margin" (in the good direction).

    ``effect_good`` is the lift signed so that positive is better; ``margin`` >= 0 is the
    degradation the experiment tolerates, on the same scale.
    """
    if se == 0:
        return 0.0 if effect_good > -margin else 1.0
    return upper_tail((effect_good + margin) / se, df)
