"""The drift decision: right at every sample size, one feature at a time and for the dataset.

A feature drifts when BOTH hold:
1. the two-sample test rejects "same distribution" at level `alpha` after a Holm (or BH)
   correction across the scored features (KS for numeric, chi-square for categorical); and
2. the effect size reaches the feature's threshold (default: Wasserstein >= 0.1 baseline
   standard deviations for numeric, a category's share moving by >= 0.05 for categorical).

On small samples the test is the binding condition: noise alone produces large effect
sizes, and the test keeps the false alarm rate at or below alpha. On large samples every
difference is "significant", and the effect-size threshold is what stops a 0.02 sigma
shift on a million rows from paging anyone. One rule, no sample-size switch to tune.

The dataset drifts when at least one feature drifts and the share of drifted features
among the scored ones reaches `min_drift_share` (0 by default: any drifted feature; with
Holm this keeps the dataset-level false alarm rate at or below alpha).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdas.common.errors import InputError, Problem
from lambdas.drift.categorical_profile import CategoricalProfile
from lambdas.drift.dataset_profile import DatasetProfile, FeatureProfile
from lambdas.drift.multiple_testing import CORRECTIONS, adjust
from lambdas.drift.numeric_profile import NumericProfile
from lambdas.drift.statistics import (
    chi_square,
    histogram_counts,
    js_distance,
    ks_from_profiles,
    linf,
    psi,
    wasserstein_from_profiles,
)

NUMERIC_EFFECTS = ("wasserstein", "psi", "js_distance", "ks_statistic")
CATEGORICAL_EFFECTS = ("linf", "psi", "js_distance")
# Statuses whose features are scored (they count in drift_share); the others explain why not.
SCORED_STATUSES = ("ok", "constant", "infinite_values")
UNSCORED_STATUSES = (
    "empty",
    "all_nan",
    "too_small",
    "missing_in_current",
    "missing_in_baseline",
    "type_mismatch",
    "error",
)


@dataclass(frozen=True)
class EffectRule:
    """Which effect size decides materiality for a feature, and its threshold."""

    effect: str
    threshold: float


@dataclass(frozen=True)
class DriftConfig:
    alpha: float = 0.05
    correction: str = "holm"
    min_rows: int = 20
    min_drift_share: float = 0.0
    psi_bins: int = 10
    numeric_rule: EffectRule = EffectRule("wasserstein", 0.1)
    categorical_rule: EffectRule = EffectRule("linf", 0.05)
    # Baseline constant: dividing by its zero std is undefined, so materiality falls back
    # to the KS statistic (the share of current mass that left the constant value).
    constant_rule: EffectRule = EffectRule("ks_statistic", 0.1)
    feature_rules: Mapping[str, EffectRule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.alpha < 1:
            problems.append(("alpha", f"must be in (0, 1), got {self.alpha}"))
        if self.correction not in CORRECTIONS:
            problems.append(("correction", f"must be one of {CORRECTIONS}, got {self.correction!r}"))
        if self.min_rows < 2:
            problems.append(("min_rows", f"must be at least 2, got {self.min_rows}"))
        if not 0 <= self.min_drift_share <= 1:
            problems.append(("min_drift_share", f"must be in [0, 1], got {self.min_drift_share}"))
        if self.psi_bins < 2:
            problems.append(("psi_bins", f"must be at least 2, got {self.psi_bins}"))
        rules = {"numeric_rule": self.numeric_rule, "constant_rule": self.constant_rule}
        for name, rule in rules.items():
            if rule.effect not in NUMERIC_EFFECTS:
                problems.append((f"{name}.effect", f"must be one of {NUMERIC_EFFECTS}, got {rule.effect!r}"))
        if self.categorical_rule.effect not in CATEGORICAL_EFFECTS:
            problems.append(
                (
                    "categorical_rule.effect",
                    f"must be one of {CATEGORICAL_EFFECTS}, got {self.categorical_rule.effect!r}",
                )
            )
        allowed = set(NUMERIC_EFFECTS) | set(CATEGORICAL_EFFECTS)
        for name, rule in {**rules, "categorical_rule": self.categorical_rule, **self.feature_rules}.items():
            if rule.effect in allowed and not (rule.threshold >= 0 and math.isfinite(rule.threshold)):
                problems.append((f"{name}.threshold", f"must be a finite number >= 0, got {rule.threshold}"))
        for name, rule in self.feature_rules.items():
            if rule.effect not in allowed:
                problems.append((f"feature_rules.{name}.effect", f"must be one of {sorted(allowed)}"))
        if problems:
            raise InputError([Problem(f, r) for f, r in problems], source="drift config")


@dataclass
class FeatureResult:
    """Everything known about one feature's drift; `to_dict` gives the public JSON."""

    name: str
    kind: str
    status: str
    reason: str = ""
    drift: bool = False
    method: str = ""
    effect: str = ""
    threshold: float = math.nan
    effect_value: float = math.nan
    p_value: float = math.nan
    p_value_adjusted: float = math.nan
    n_baseline: int = 0
    n_current: int = 0
    missing_share_baseline: float = math.nan
    missing_share_current: float = math.nan
    statistics: dict[str, float] = field(default_factory=dict)

    @property
    def scored(self) -> bool:
        return self.status in SCORED_STATUSES

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"drift": self.drift, "method": self.method, "kind": self.kind}
        body.update({k: _finite_or_none(v) for k, v in self.statistics.items()})
        body.update(
            status=self.status,
            reason=self.reason,
            effect=self.effect,
            effect_value=_finite_or_none(self.effect_value),
            threshold=_finite_or_none(self.threshold),
            p_value_adjusted=_finite_or_none(self.p_value_adjusted),
            n_baseline=self.n_baseline,
            n_current=self.n_current,
            missing_share_baseline=_finite_or_none(self.missing_share_baseline),
            missing_share_current=_finite_or_none(self.missing_share_current),
        )
        return body


def _finite_or_none(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass
class DriftResult:
    features: dict[str, FeatureResult]
    config: DriftConfig

    @property
    def scored(self) -> list[FeatureResult]:
        return [f for f in self.features.values() if f.scored]

    @property
    def drifted(self) -> list[str]:
        return [f.name for f in self.features.values() if f.drift]

    @property
    def drift_share(self) -> float:
        scored = self.scored
        return len(self.drifted) / len(scored) if scored else 0.0

    @property
    def drift_detected(self) -> bool:
        return bool(self.drifted) and self.drift_share >= self.config.min_drift_share

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift_detected": self.drift_detected,
            "drift_share": self.drift_share,
            "n_features": len(self.features),
            "n_scored": len(self.scored),
            "n_drifted": len(self.drifted),
            "drifted_features": self.drifted,
            "alpha": self.config.alpha,
            "correction": self.config.correction,
            "features": {name: f.to_dict() for name, f in self.features.items()},
        }


def _missing_share(profile: FeatureProfile) -> float:
    missing = profile.nan_count if isinstance(profile, NumericProfile) else profile.missing_count
    return missing / profile.total if profile.total else math.nan


def _precheck(name: str, base: FeatureProfile, cur: FeatureProfile, min_rows: int) -> FeatureResult | None:
    result = FeatureResult(name, base.kind, "ok", n_baseline=base.n, n_current=cur.n)
    result.missing_share_baseline = _missing_share(base)
    result.missing_share_current = _missing_share(cur)
    if cur.total == 0:
        result.status, result.reason = "empty", "the current window has no rows"
    elif base.n == 0:
        result.status, result.reason = "all_nan", "every baseline value is missing"
    elif cur.n == 0:
        result.status, result.reason = "all_nan", f"all {cur.total} current values are missing"
    elif min(base.n, cur.n) < min_rows:
        result.status = "too_small"
        result.reason = f"{base.n} baseline and {cur.n} current values; at least {min_rows} each are needed"
    else:
        return None
    return result


def _score_numeric(
    name: str, base: NumericProfile, cur: NumericProfile, config: DriftConfig
) -> FeatureResult:
    result = _precheck(name, base, cur, config.min_rows)
    if result is not None:
        return result
    result = FeatureResult(name, "numeric", "ok", n_baseline=base.n, n_current=cur.n)
    result.missing_share_baseline = _missing_share(base)
    result.missing_share_current = _missing_share(cur)
    ks = ks_from_profiles(base, cur)
    wasserstein, w_method = wasserstein_from_profiles(base, cur)
    hist_b, hist_c = histogram_counts(base, cur, config.psi_bins)
    result.statistics = {
        "psi": psi(hist_b, hist_c),
        "js_distance": js_distance(hist_b, hist_c),
        "ks_statistic": ks.statistic,
        "ks_p_value": ks.p_value,
        "wasserstein": wasserstein,
    }
    rule = config.feature_rules.get(name, config.numeric_rule)
    if base.is_constant:
        result.status = "constant"
        result.reason = f"the baseline is constant ({base.minimum!r}); materiality uses the KS statistic"
        rule = config.constant_rule
    elif cur.inf_count or base.inf_count:
        result.status = "infinite_values"
        result.reason = (
            f"{base.inf_count} baseline and {cur.inf_count} current infinite values are left out "
            "of KS and Wasserstein and counted in the end bins of PSI and JS"
        )
    if rule.effect not in result.statistics:
        result.status, result.reason = "error", f"effect {rule.effect!r} does not apply to a numeric feature"
        return result
    result.effect, result.threshold = rule.effect, rule.threshold
    result.effect_value = result.statistics[rule.effect]
    result.p_value = ks.p_value
    ks_name = "ks_exact" if ks.method == "exact" else "ks_asymptotic_binned"
    result.method = f"{ks_name}+{rule.effect}" + ("" if rule.effect != "wasserstein" else f"_{w_method}")
    return result


def _score_categorical(
    name: str, base: CategoricalProfile, cur: CategoricalProfile, config: DriftConfig
) -> FeatureResult:
    result = _precheck(name, base, cur, config.min_rows)
    if result is not None:
        return result
    result = FeatureResult(name, "categorical", "ok", n_baseline=base.n, n_current=cur.n)
    result.missing_share_baseline = _missing_share(base)
    result.missing_share_current = _missing_share(cur)
    with_missing_b = [*base.counts.tolist(), base.missing_count]
    with_missing_c = [*cur.counts.tolist(), cur.missing_count]
    chi2 = chi_square(base.counts, cur.counts)
    result.statistics = {
        "chi2": chi2.statistic,
        "chi2_p_value": chi2.p_value,
        "psi": psi(with_missing_b, with_missing_c),
        "js_distance": js_distance(with_missing_b, with_missing_c),
        "linf": linf(base.counts, cur.counts),
    }
    rule = config.feature_rules.get(name, config.categorical_rule)
    if rule.effect not in result.statistics:
        result.status, result.reason = (
            "error",
            f"effect {rule.effect!r} does not apply to a categorical feature",
        )
        return result
    if len(base.categories) == 1 and base.other_count == 0:
        result.status, result.reason = "constant", f"the baseline holds one category ({base.categories[0]!r})"
    result.effect, result.threshold = rule.effect, rule.threshold
    result.effect_value = result.statistics[rule.effect]
    result.p_value = chi2.p_value
    result.method = f"chi2+{rule.effect}"
    return result


def _score_one(
    name: str, baseline: DatasetProfile, current: DatasetProfile, config: DriftConfig
) -> FeatureResult:
    base = baseline.features.get(name)
    cur = current.features.get(name)
    if name in baseline.problems:
        return FeatureResult(name, "unknown", "error", f"baseline: {baseline.problems[name]}")
    if name in current.problems:
        kind = base.kind if base is not None else "unknown"
        return FeatureResult(name, kind, "error", f"current: {current.problems[name]}")
    if base is None:
        kind = cur.kind if cur is not None else "unknown"
        return FeatureResult(name, kind, "missing_in_baseline", "the baseline has no such feature")
    if cur is None:
        return FeatureResult(name, base.kind, "missing_in_current", "the current data has no such column")
    if isinstance(base, NumericProfile) and isinstance(cur, NumericProfile):
        return _score_numeric(name, base, cur, config)
    if isinstance(base, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        return _score_categorical(name, base, cur, config)
    return FeatureResult(name, base.kind, "type_mismatch", f"baseline is {base.kind}, current is {cur.kind}")


def score(
    baseline: DatasetProfile,
    current: DatasetProfile,
    config: DriftConfig | None = None,
    current_columns: set[str] | None = None,
) -> DriftResult:
    """Score every feature of either side, then decide drift with the multiple-testing correction.

    `current_columns` names columns present in the current data that the baseline-bound
    profile left out (unknown to the baseline); they are reported as missing_in_baseline.
    A failure in one feature becomes that feature's status and never hides the others.
    """
    config = config or DriftConfig()
    names = list(baseline.features) + [n for n in baseline.problems if n not in baseline.features]
    extra = set(current.features) | set(current.problems) | set(current_columns or ())
    names += sorted(n for n in extra if n not in names)
    results: dict[str, FeatureResult] = {}
    for name in names:
        try:
            results[name] = _score_one(name, baseline, current, config)
        except Exception as exc:
            # one feature's failure must not hide the verdict on the others
            results[name] = FeatureResult(name, "unknown", "error", f"{type(exc).__name__}: {exc}")
    scored = [r for r in results.values() if r.scored]
    adjusted = adjust([r.p_value for r in scored], config.correction)
    for result, p_adjusted in zip(scored, adjusted, strict=True):
        result.p_value_adjusted = float(p_adjusted)
        result.drift = bool(p_adjusted < config.alpha and result.effect_value >= result.threshold)
    return DriftResult(results, config)
