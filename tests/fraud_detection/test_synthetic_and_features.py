"""The synthetic generator's fraud patterns and the model-input definitions."""

from __future__ import annotations

import numpy as np
import pytest
from fraud_service.model_features import MODEL_FEATURES, model_inputs
from fraud_service.synthetic import PATTERNS, generate
from scipy.stats import mannwhitneyu

COL = {n: i for i, n in enumerate(MODEL_FEATURES)}


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return generate(20_000, seed=5)


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = generate(500, seed=1), generate(500, seed=1), generate(500, seed=2)
    assert np.array_equal(a.features, b.features, equal_nan=True) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.features, c.features, equal_nan=True)


def test_fraud_rate_matches_the_request(data) -> None:  # type: ignore[no-untyped-def]
    n = len(data.labels)
    # Binomial(n, 0.03): five standard deviations.
    assert abs(data.labels.mean() - 0.03) < 5 * np.sqrt(0.03 * 0.97 / n)
    assert (data.patterns.any(axis=1) == data.labels.astype(bool)).all()


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        ("velocity_burst", "txn_count_10m"),
        ("unusual_amount", "amount_ratio_90d"),
        ("risky_merchant", "merchant_risk_score"),
    ],
)
def test_each_pattern_shifts_its_feature_above_legitimate_traffic(data, pattern: str, feature: str) -> None:  # type: ignore[no-untyped-def]
    rows = data.patterns[:, PATTERNS.index(pattern)]
    legit = data.labels == 0
    x, y = data.features[rows, COL[feature]], data.features[legit, COL[feature]]
    result = mannwhitneyu(x[~np.isnan(x)], y[~np.isnan(y)], alternative="greater")
    assert result.pvalue < 1e-6


def test_model_inputs_ratios_zscore_and_foreign_flag() -> None:
    values = model_inputs(
        amount=300.0,
        country="FR",
        hour_utc=3,
        card={"avg_amount_90d": 50.0, "std_amount_90d": 25.0, "card_age_days": 10, "home_country": "US"},
        merchant={"risk_score": 0.4, "chargeback_rate_90d": 0.01},
        velocity={
            "txn_count_10m": 2,
            "txn_count_1h": 3,
            "amount_sum_1h": 400.0,
            "amount_mean_24h": 150.0,
            "merchants_24h": 2,
        },
    )
    assert values["amount_ratio_90d"] == 6.0 and values["amount_z_90d"] == 10.0
    assert values["amount_ratio_24h"] == 2.0 and values["foreign"] == 1.0 and values["hour_utc"] == 3.0
    assert list(values) == list(MODEL_FEATURES)


def test_unknown_history_is_missing_not_zero() -> None:
    values = model_inputs(amount=10.0, country="US", hour_utc=12, card={}, merchant={}, velocity={})
    assert values["amount_ratio_90d"] is None and values["amount_z_90d"] is None and values["foreign"] is None
    assert values["txn_count_10m"] is None and values["amount"] == 10.0


def test_zero_spread_history_uses_the_floor() -> None:
    values = model_inputs(
        amount=12.0,
        country="US",
        hour_utc=0,
        card={"avg_amount_90d": 10.0, "std_amount_90d": 0.0},
        merchant={},
        velocity={},
    )
    assert values["amount_z_90d"] == 2.0
