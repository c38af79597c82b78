"""Generated source data and the feature groups the Spark tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from lambdas.feature_pipelines.batch_spec import BatchFeatureSpec
from lambdas.feature_store.registry import FeatureGroup

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)

GROUP = FeatureGroup.model_validate(
    {
        "name": "card_daily",
        "entity_key": "card_id",
        "owner_team": "fraud",
        "features": [
            {"name": "txn_count", "dtype": "int64"},
            {"name": "amount_sum", "dtype": "float64"},
            {"name": "amount_mean", "dtype": "float64"},
            {"name": "amount_max", "dtype": "float64"},
            {"name": "merchants", "dtype": "int64"},
            {"name": "qty_sum", "dtype": "int64"},
        ],
    }
)

SPEC = BatchFeatureSpec.parse(
    {
        "feature_group": "card_daily",
        "entity_column": "card",
        "event_time_column": "ts",
        "features": [
            {"name": "txn_count", "aggregation": "count"},
            {"name": "amount_sum", "aggregation": "sum", "column": "amount"},
            {"name": "amount_mean", "aggregation": "mean", "column": "amount"},
            {"name": "amount_max", "aggregation": "max", "column": "amount"},
            {"name": "merchants", "aggregation": "distinct_count", "column": "merchant"},
            {"name": "qty_sum", "aggregation": "sum", "column": "qty"},
        ],
    }
)


def source_rows(n: int, seed: int, days: int = 4, entities: int = 40) -> list[tuple]:
    """(card, ts, amount, merchant, qty) with nulls sprinkled in amount and merchant."""
    rng = np.random.default_rng(seed)
    cards = rng.integers(0, entities, n)
    seconds = rng.integers(0, days * 86400, n)
    amounts = np.round(rng.gamma(2.0, 30.0, n), 2)
    amount_null = rng.random(n) < 0.1
    merchants = rng.integers(0, 15, n)
    merchant_null = rng.random(n) < 0.1
    qty = rng.integers(1, 5, n)
    return [
        (
            int(cards[i]),
            DAY0 + timedelta(seconds=int(seconds[i])),
            None if amount_null[i] else float(amounts[i]),
            None if merchant_null[i] else f"m{merchants[i]}",
            int(qty[i]),
        )
        for i in range(n)
    ]


SOURCE_DDL = "card bigint, ts timestamp, amount double, merchant string, qty int"
