"""A seeded synthetic transaction generator with three fraud patterns.

Each row is the context of one transaction as the serving path sees it: the card's
90-day profile, the merchant's risk profile and the card's velocity windows (including
the transaction). Fraud rows follow one or more patterns:

- **velocity burst**: many transactions at many merchants within minutes;
- **unusual amount**: several times the card's usual spend;
- **risky merchant**: merchants with high risk scores and chargeback rates.

Legitimate rows sometimes show each pattern too (a big purchase, a busy afternoon), so
the classes overlap and a held-out AUC well below 1 is expected. Columns are sampled
with numpy in one pass; the model inputs are derived by `model_features.model_inputs`,
the function serving calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fraud_service.model_features import MODEL_FEATURES, model_inputs

COUNTRIES = ("US", "GB", "DE", "FR", "BR", "IN", "NG", "JP")
PATTERNS = ("velocity_burst", "unusual_amount", "risky_merchant")


@dataclass(frozen=True)
class SyntheticSet:
    features: np.ndarray  # (n, len(MODEL_FEATURES)), NaN for unknown values
    labels: np.ndarray  # (n,) 0/1
    patterns: np.ndarray  # (n, len(PATTERNS)) bool: which fraud patterns a fraud row follows


def generate(n: int, *, seed: int, fraud_rate: float = 0.03) -> SyntheticSet:
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 < fraud_rate < 1:
        raise ValueError(f"fraud_rate must be in (0, 1), got {fraud_rate}")
    rng = np.random.default_rng(seed)
    fraud = rng.random(n) < fraud_rate
    patterns = rng.random((n, len(PATTERNS))) < 0.45
    # Every fraud row follows at least one pattern.
    none = fraud & ~patterns.any(axis=1)
    patterns[none, rng.integers(0, len(PATTERNS), none.sum())] = True
    patterns &= fraud[:, None]
    burst, unusual, risky = patterns.T

    card_avg = rng.lognormal(np.log(60.0), 0.8, n)
    card_std = card_avg * rng.uniform(0.3, 1.0, n)
    card_age = (rng.exponential(700.0, n) + 1).astype(int)
    # Fraudsters favour fresh cards a little; 5% of cards have no 90-day profile yet.
    card_age = np.where(fraud & (rng.random(n) < 0.3), rng.integers(1, 30, n), card_age)
    no_profile = rng.random(n) < 0.05
    home = rng.choice(len(COUNTRIES), n, p=[0.6, 0.1, 0.08, 0.07, 0.05, 0.05, 0.03, 0.02])
    abroad = rng.random(n) < np.where(fraud, 0.3, 0.1)
    country = np.where(abroad, (home + rng.integers(1, len(COUNTRIES), n)) % len(COUNTRIES), home)

    big_legit = ~fraud & (rng.random(n) < 0.05)
    amount: np.ndarray = card_avg * rng.lognormal(0.0, 0.6, n)
    amount = np.where(unusual | big_legit, card_avg * rng.uniform(2.5, 12.0, n), amount)
    amount = np.round(np.clip(amount, 0.5, 50_000.0), 2)

    busy_legit = ~fraud & (rng.random(n) < 0.08)
    count_10m = 1 + rng.poisson(0.15, n)
    count_10m = np.where(burst, 2 + rng.poisson(2.5, n), count_10m)
    count_10m = np.where(busy_legit, 2 + rng.poisson(2.0, n), count_10m)
    count_1h = count_10m + rng.poisson(np.where(burst, 3.0, 0.6), n)
    merchants_24h = np.maximum(1, np.minimum(count_1h, 1 + rng.poisson(np.where(burst, 6.0, 1.5), n)))
    merchants_24h = merchants_24h + rng.poisson(1.0, n)
    others_1h = (count_1h - 1) * card_avg * rng.lognormal(0.0, 0.5, n)
    amount_sum_1h = amount + others_1h
    count_24h = count_1h + rng.poisson(3.0, n)
    amount_mean_24h = (amount_sum_1h + (count_24h - count_1h) * card_avg) / count_24h

    risky_legit = ~fraud & (rng.random(n) < 0.08)
    merchant_risk = np.where(risky | risky_legit, rng.beta(4.0, 6.0, n), rng.beta(2.0, 20.0, n))
    chargeback = np.where(risky | risky_legit, rng.beta(4.0, 60.0, n), rng.beta(1.0, 300.0, n))
    night = rng.random(n) < np.where(fraud, 0.35, 0.1)
    hour = np.where(night, rng.integers(0, 6, n), rng.integers(6, 24, n))

    rows = np.empty((n, len(MODEL_FEATURES)))
    for i in range(n):
        card = (
            {}
            if no_profile[i]
            else {
                "avg_amount_90d": card_avg[i],
                "std_amount_90d": card_std[i],
                "card_age_days": int(card_age[i]),
                "home_country": COUNTRIES[home[i]],
            }
        )
        values = model_inputs(
            amount=float(amount[i]),
            country=COUNTRIES[country[i]],
            hour_utc=int(hour[i]),
            card=card,
            merchant={"risk_score": merchant_risk[i], "chargeback_rate_90d": chargeback[i]},
            velocity={
                "txn_count_10m": int(count_10m[i]),
                "txn_count_1h": int(count_1h[i]),
                "amount_sum_1h": amount_sum_1h[i],
                "amount_mean_24h": amount_mean_24h[i],
                "merchants_24h": int(merchants_24h[i]),
            },
        )
        rows[i] = [np.nan if values[name] is None else values[name] for name in MODEL_FEATURES]
    return SyntheticSet(rows, fraud.astype(np.int8), patterns)
