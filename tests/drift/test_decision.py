"""Statuses, per-feature rules, config validation and the dataset verdict."""

from __future__ import annotations

import numpy as np
import pytest

from lambdas.common.errors import InputError
from lambdas.drift.dataset_profile import profile_baseline, profile_current
from lambdas.drift.decision import DriftConfig, EffectRule, score

RNG = np.random.default_rng(2024)
BASE_X = RNG.normal(size=400)


def _score(baseline_cols, current_cols, config=None):
    baseline = profile_baseline(baseline_cols)
    current = profile_current(baseline, current_cols)
    return score(baseline, current, config, current_columns=set(current_cols))


def test_numeric_json_has_the_documented_keys():
    body = _score({"x": BASE_X}, {"x": BASE_X[:200] + 1.0}).to_dict()
    assert body["drift_detected"] is True and body["drift_share"] == 1.0
    feature = body["features"]["x"]
    for key, kind in {
        "drift": bool,
        "method": str,
        "psi": float,
        "js_distance": float,
        "ks_statistic": float,
        "ks_p_value": float,
        "wasserstein": float,
        "status": str,
    }.items():
        assert isinstance(feature[key], kind), key
    assert feature["method"] == "ks_exact+wasserstein_exact"


def test_categorical_json_has_chi2_psi_js_and_linf():
    base = RNG.choice(np.array(["a", "b", "c"]), size=600)
    feature = _score({"c": base}, {"c": np.array(["a"] * 300)}).to_dict()["features"]["c"]
    assert feature["drift"] is True and feature["method"] == "chi2+linf"
    assert {"chi2", "chi2_p_value", "psi", "js_distance", "linf"} <= feature.keys()


@pytest.mark.parametrize(
    ("current", "status", "reason"),
    [
        (np.array([]), "empty", "no rows"),
        (np.full(50, np.nan), "all_nan", "all 50 current values are missing"),
        (BASE_X[:5], "too_small", "at least 20 each"),
    ],
)
def test_unscorable_features_get_an_explicit_status(current, status, reason):
    result = _score(
        {"x": BASE_X, "y": BASE_X},
        {"x": current, "y": BASE_X[: current.size]} if current.size else {"x": current, "y": current},
    )
    feature = result.features["x"]
    assert (feature.status, feature.drift) == (status, False)
    assert reason in feature.reason
    assert result.drift_detected is False


def test_all_nan_baseline_is_reported():
    result = _score({"x": np.full(100, np.nan)}, {"x": BASE_X[:100]})
    assert result.features["x"].status == "all_nan" and "baseline" in result.features["x"].reason


def test_constant_baseline_uses_ks_statistic_for_materiality():
    same = _score({"x": np.full(100, 3.0)}, {"x": np.full(80, 3.0)}).features["x"]
    moved = _score({"x": np.full(100, 3.0)}, {"x": np.full(80, 4.0)}).features["x"]
    assert (same.status, same.drift) == ("constant", False)
    assert (moved.status, moved.drift, moved.effect) == ("constant", True, "ks_statistic")
    assert moved.to_dict()["wasserstein"] is None  # undefined: zero baseline std


def test_infinite_values_are_flagged_and_finite_values_still_scored():
    current = np.concatenate((BASE_X[:100] + 2.0, [np.inf, -np.inf]))
    feature = _score({"x": BASE_X}, {"x": current}).features["x"]
    assert feature.status == "infinite_values" and "1 current infinite" not in feature.reason
    assert "2 current infinite values" in feature.reason
    assert feature.drift is True and feature.n_current == 100


def test_schema_mismatches_are_reported_per_feature_without_hiding_others():
    result = _score(
        {"x": BASE_X, "gone": BASE_X, "t": BASE_X},
        {"x": BASE_X[:200] + 1.0, "new": BASE_X[:200], "t": np.array(["a"] * 199 + ["oops"], dtype=object)},
    )
    statuses = {name: f.status for name, f in result.features.items()}
    assert statuses == {"x": "ok", "gone": "missing_in_current", "t": "error", "new": "missing_in_baseline"}
    assert "value 'a' at row 0 is not a number" in result.features["t"].reason
    assert result.features["x"].drift is True
    assert result.drift_share == 1.0  # one scored feature, drifted


def test_per_feature_rule_overrides_default_threshold():
    current = {"x": BASE_X[:300] + 0.5}
    strict = _score({"x": BASE_X}, current, DriftConfig(feature_rules={"x": EffectRule("wasserstein", 2.0)}))
    by_psi = _score({"x": BASE_X}, current, DriftConfig(feature_rules={"x": EffectRule("psi", 0.1)}))
    assert strict.features["x"].drift is False and strict.features["x"].threshold == 2.0
    assert by_psi.features["x"].drift is True and by_psi.features["x"].method == "ks_exact+psi"


def test_categorical_effect_on_numeric_feature_is_a_status_not_a_crash():
    result = _score(
        {"x": BASE_X}, {"x": BASE_X[:100]}, DriftConfig(feature_rules={"x": EffectRule("linf", 0.1)})
    )
    assert result.features["x"].status == "error" and "does not apply" in result.features["x"].reason


def test_min_drift_share_sets_the_dataset_verdict():
    base = {f"f{i}": RNG.normal(size=300) for i in range(4)}
    current = {name: values[:200] for name, values in base.items()}
    current["f0"] = current["f0"] + 2.0
    assert _score(base, current).drift_detected is True
    result = _score(base, current, DriftConfig(min_drift_share=0.5))
    assert result.drift_share == 0.25 and result.drift_detected is False


def test_bad_config_names_every_field():
    with pytest.raises(InputError) as info:
        DriftConfig(alpha=1.5, correction="bonferroni", numeric_rule=EffectRule("linf", -1))
    text = str(info.value)
    assert "alpha: must be in (0, 1)" in text
    assert "correction: must be one of" in text
    assert "numeric_rule.effect" in text
