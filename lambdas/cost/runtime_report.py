"""Assemble the runtime cost report (plain data, written to S3 as JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lambdas.cost.catalog import PriceCatalog
from lambdas.cost.inference_cost import VariantCost
from lambdas.cost.rightsizing import Recommendation
from lambdas.cost.storage_tiering import TieringSaving


def build_report(
    *,
    generated_at: datetime,
    region: str,
    window_hours: float,
    catalog: PriceCatalog,
    costs: Sequence[VariantCost],
    recommendations: Sequence[Recommendation],
    spot: dict[str, Any],
    tiering: Sequence[TieringSaving],
) -> dict[str, Any]:
    rightsizing_saving = sum(r.monthly_saving_usd for r in recommendations if r.monthly_saving_usd > 0)
    tiering_saving = sum(t.estimated_saving_usd for t in tiering)
    return {
        "generated_at": generated_at.isoformat(),
        "region": region,
        "window_hours": window_hours,
        "catalog": {
            "date": catalog.date,
            "source": catalog.source,
            "hours_per_month": catalog.hours_per_month,
        },
        "summary": {
            "monthly_endpoint_cost_usd": round(sum(c.monthly_cost_usd or 0.0 for c in costs), 2),
            "rightsizing_monthly_saving_usd": round(rightsizing_saving, 2),
            "spot_realised_saving_usd": spot.get("realised_saving_usd", 0.0),
            "spot_available_saving_usd": spot.get("available_saving_usd", 0.0),
            "tiering_monthly_saving_usd": round(tiering_saving, 2),
        },
        "cost_per_inference": [c.to_dict() for c in costs],
        "rightsizing": [r.to_dict() for r in recommendations],
        "spot_training": spot,
        "storage_tiering": [t.to_dict() for t in tiering],
    }


def report_key(prefix: str, generated_at: datetime) -> str:
    stamp = generated_at.strftime("%Y/%m/%d/%H%M%S")
    return f"{prefix.strip('/')}/{stamp}-cost-report.json"
