"""The model's input vector, computed the same way for training and for serving.

The synthetic training set and the serving path both call `model_inputs`, so the model
cannot be trained on a definition of a feature that serving computes differently. Unknown
values are None (the model, a histogram gradient-boosting classifier, treats them as
missing): a new card has no 90-day history, and that must not fail the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MODEL_FEATURES: tuple[str, ...] = (
    "amount",
    "amount_ratio_90d",
    "amount_z_90d",
    "amount_ratio_24h",
    "txn_count_10m",
    "txn_count_1h",
    "amount_sum_1h",
    "merchants_24h",
    "merchant_risk_score",
    "merchant_chargeback_rate_90d",
    "card_age_days",
    "foreign",
    "hour_utc",
)

# A card whose spending never varied has std 0; a floor keeps the z-score finite and
# comparable (one currency unit).
MIN_STD = 1.0


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _ratio(numerator: float, denominator: float | None) -> float | None:
    return numerator / denominator if denominator is not None and denominator > 0 else None


def model_inputs(
    *,
    amount: float,
    country: str,
    hour_utc: int,
    card: Mapping[str, Any],
    merchant: Mapping[str, Any],
    velocity: Mapping[str, Any],
) -> dict[str, float | None]:
    """Named model inputs from the transaction, the stored profiles and the velocity windows.

    `velocity` holds the windows *including* this transaction, as the feature function
    computes them before scoring.
    """
    avg_90d = _number(card.get("avg_amount_90d"))
    std_90d = _number(card.get("std_amount_90d"))
    mean_24h = _number(velocity.get("amount_mean_24h"))
    home = card.get("home_country")
    return {
        "amount": amount,
        "amount_ratio_90d": _ratio(amount, avg_90d),
        "amount_z_90d": None if avg_90d is None else (amount - avg_90d) / max(std_90d or 0.0, MIN_STD),
        "amount_ratio_24h": _ratio(amount, mean_24h),
        "txn_count_10m": _number(velocity.get("txn_count_10m")),
        "txn_count_1h": _number(velocity.get("txn_count_1h")),
        "amount_sum_1h": _number(velocity.get("amount_sum_1h")),
        "merchants_24h": _number(velocity.get("merchants_24h")),
        "merchant_risk_score": _number(merchant.get("risk_score")),
        "merchant_chargeback_rate_90d": _number(merchant.get("chargeback_rate_90d")),
        "card_age_days": _number(card.get("card_age_days")),
        "foreign": None if not isinstance(home, str) else float(home != country),
        "hour_utc": float(hour_utc),
    }
