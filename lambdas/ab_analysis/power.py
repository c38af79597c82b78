"""Power analysis for a two-sided comparison of a treatment with control.

Sizes are total units across the two arms; ``control_share`` is the control's share of
them (0.5 for an even split). Formulas are the normal approximations used by
``statsmodels.stats.power.NormalIndPower`` and
``statsmodels.stats.proportion.samplesize_proportions_2indep_onetail``.
"""

from __future__ import annotations

import math

from scipy import special

from lambdas.ab_analysis.sequential import optimal_variance_ratio


def _z(q: float) -> float:
    return float(special.ndtri(q))


def _per_unit_variance(
    variance_control: float, variance_treatment: float | None, control_share: float
) -> float:
    """Variance of the difference times the total number of units (equal variances by default)."""
    v_t = variance_control if variance_treatment is None else variance_treatment
    return variance_control / control_share + v_t / (1 - control_share)


def _standard_error(
    total_n: float, variance_control: float, variance_treatment: float | None, control_share: float
) -> float:
    return math.sqrt(_per_unit_variance(variance_control, variance_treatment, control_share) / total_n)


def required_sample_size(
    effect: float,
    variance_control: float,
    variance_treatment: float | None = None,
    *,
    control_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Total units needed to detect an absolute ``effect`` with the given power."""
    spread = _per_unit_variance(variance_control, variance_treatment, control_share)
    return (_z(1 - alpha / 2) + _z(power)) ** 2 * spread / (effect * effect)


def power_at(
    total_n: float,
    effect: float,
    variance_control: float,
    variance_treatment: float | None = None,
    *,
    control_share: float = 0.5,
    alpha: float = 0.05,
) -> float:
    """Power of the two-sided test with ``total_n`` units when the true difference is ``effect``."""
    se = _standard_error(total_n, variance_control, variance_treatment, control_share)
    crit = _z(1 - alpha / 2)
    shift = abs(effect) / se
    return float(special.ndtr(shift - crit) + special.ndtr(-shift - crit))


def minimum_detectable_effect(
    total_n: float,
    variance_control: float,
    variance_treatment: float | None = None,
    *,
    control_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Smallest absolute effect detected with the given power (far tail ignored)."""
    se = _standard_error(total_n, variance_control, variance_treatment, control_share)
    return (_z(1 - alpha / 2) + _z(power)) * se


def proportion_sample_size(
    p_control: float,
    effect: float,
    *,
    control_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Total units for the pooled two-proportion z-test to detect ``p_control -> p_control + effect``."""
    p_t = p_control + effect
    w_c, w_t = control_share, 1 - control_share
    pooled = w_c * p_control + w_t * p_t
    sd_null = math.sqrt(pooled * (1 - pooled) * (1 / w_c + 1 / w_t))
    sd_alt = math.sqrt(p_control * (1 - p_control) / w_c + p_t * (1 - p_t) / w_t)
    return ((_z(1 - alpha / 2) * sd_null + _z(power) * sd_alt) / effect) ** 2


def progress(current_n: float, planned_n: float) -> float:
    """Share of the planned sample collected so far, capped at 1."""
    return min(current_n / planned_n, 1.0)


def sequential_critical_value(alpha: float) -> float:
    """Half-width of the mSPRT confidence sequence in standard errors, at its tuning sample.

    Plays the role of z_(1-alpha/2) for a sequence tuned to be narrowest at the planned
    sample: sqrt((1 + 1/x)(2 log(1/alpha) + log(1 + x))) with x the optimal tau^2 / V
    (about 3.03 at alpha = 0.05, against 1.96 for a single look).
    """
    x = optimal_variance_ratio(alpha)
    return math.sqrt((1 + 1 / x) * (2 * math.log(1 / alpha) + math.log1p(x)))


def sequential_required_sample_size(
    effect: float,
    variance_control: float,
    variance_treatment: float | None = None,
    *,
    control_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Total units for the always-valid test, tuned to this sample, to reach ``power``.

    Counts only a crossing at the final look, so it is conservative: earlier looks can only
    add rejections. About 1.9 times the fixed-horizon sample at alpha 0.05 and power 0.8.
    """
    spread = _per_unit_variance(variance_control, variance_treatment, control_share)
    return (sequential_critical_value(alpha) + _z(power)) ** 2 * spread / (effect * effect)


def sequential_power_at(
    total_n: float,
    effect: float,
    variance_control: float,
    variance_treatment: float | None = None,
    *,
    control_share: float = 0.5,
    alpha: float = 0.05,
) -> float:
    """Lower bound on the always-valid test's power at its tuning sample ``total_n``."""
    se = _standard_error(total_n, variance_control, variance_treatment, control_share)
    return float(special.ndtr(abs(effect) / se - sequential_critical_value(alpha)))
