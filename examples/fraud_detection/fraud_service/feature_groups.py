"""The feature groups the fraud service reads and writes, and its velocity windows.

`card_profile` and `merchant_profile` are maintained by batch pipelines (90-day history);
`card_velocity` is written by the fraud service itself on every transaction, from windows
kept with the platform's streaming window logic.
"""

from __future__ import annotations

from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec
from lambdas.feature_store.registry import Dtype, Feature, FeatureGroup

OWNER = "fraud"
DAY = 86_400

CARD_PROFILE = FeatureGroup(
    name="card_profile",
    entity_key="card_id",
    owner_team=OWNER,
    description="Per-card spending history over 90 days (batch)",
    features=(
        Feature(name="avg_amount_90d", dtype=Dtype.FLOAT64, max_age_seconds=2 * DAY),
        Feature(name="std_amount_90d", dtype=Dtype.FLOAT64, max_age_seconds=2 * DAY),
        Feature(name="card_age_days", dtype=Dtype.INT64),
        Feature(name="home_country", dtype=Dtype.STRING),
    ),
)

MERCHANT_PROFILE = FeatureGroup(
    name="merchant_profile",
    entity_key="merchant_id",
    owner_team=OWNER,
    description="Per-merchant risk over 90 days (batch)",
    features=(
        Feature(name="risk_score", dtype=Dtype.FLOAT64, max_age_seconds=7 * DAY),
        Feature(name="chargeback_rate_90d", dtype=Dtype.FLOAT64, max_age_seconds=7 * DAY),
    ),
)

CARD_VELOCITY = FeatureGroup(
    name="card_velocity",
    entity_key="card_id",
    owner_team=OWNER,
    description="Per-card transaction velocity over sliding windows (written per transaction)",
    features=(
        Feature(name="txn_count_10m", dtype=Dtype.INT64, max_age_seconds=DAY),
        Feature(name="txn_count_1h", dtype=Dtype.INT64, max_age_seconds=DAY),
        Feature(name="amount_sum_1h", dtype=Dtype.FLOAT64, max_age_seconds=DAY),
        Feature(name="amount_mean_24h", dtype=Dtype.FLOAT64, max_age_seconds=DAY),
        Feature(name="merchants_24h", dtype=Dtype.INT64, max_age_seconds=DAY),
    ),
)

FEATURE_GROUPS = (CARD_PROFILE, MERCHANT_PROFILE, CARD_VELOCITY)

# One-minute buckets: a 10-minute window is exact to the minute, and 24 h is 1440 buckets,
# the window logic's cap per window.
VELOCITY_SPEC = StreamingFeatureSpec.parse(
    {
        "feature_group": CARD_VELOCITY.name,
        "entity_key": "card_id",
        "event_id_field": "transaction_id",
        "event_time_field": "event_time",
        "bucket_seconds": 60,
        "allowed_lateness_seconds": 300,
        "max_future_skew_seconds": 300,
        "features": [
            {"name": "txn_count_10m", "aggregation": "count", "window_seconds": 600},
            {"name": "txn_count_1h", "aggregation": "count", "window_seconds": 3600},
            {"name": "amount_sum_1h", "aggregation": "sum", "field": "amount", "window_seconds": 3600},
            {"name": "amount_mean_24h", "aggregation": "mean", "field": "amount", "window_seconds": DAY},
            {
                "name": "merchants_24h",
                "aggregation": "distinct_count",
                "field": "merchant_id",
                "window_seconds": DAY,
            },
        ],
    }
)
