"""Savings of managed spot training, realised (spot jobs) and available (on-demand jobs)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from lambdas.cost.catalog import PriceCatalog


@dataclass(frozen=True)
class TrainingJob:
    name: str
    instance_type: str
    instance_count: int
    training_seconds: float
    billable_seconds: float
    spot: bool


@dataclass(frozen=True)
class JobSaving:
    name: str
    spot: bool
    instance_type: str
    on_demand_cost_usd: float | None
    billed_cost_usd: float | None
    saving_usd: float | None  # realised for spot jobs, available for on-demand ones
    saving_fraction: float | None
    basis: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def job_saving(job: TrainingJob, catalog: PriceCatalog, region: str) -> JobSaving:
    price = catalog.training_hourly(job.instance_type, region)
    if price is None or job.training_seconds <= 0:
        reason = "no training price" if price is None else "no training time recorded"
        return JobSaving(job.name, job.spot, job.instance_type, None, None, None, None, reason)
    hourly = price.usd * job.instance_count
    on_demand = job.training_seconds / 3600.0 * hourly
    if job.spot:
        # Spot bills BillableTimeInSeconds at the on-demand rate; the rest of the run was free.
        fraction = 1.0 - job.billable_seconds / job.training_seconds
        billed = job.billable_seconds / 3600.0 * hourly
        return JobSaving(
            job.name,
            True,
            job.instance_type,
            on_demand,
            billed,
            on_demand - billed,
            fraction,
            "measured: 1 - BillableTimeInSeconds / TrainingTimeInSeconds",
        )
    discount = catalog.spot_training_discount
    return JobSaving(
        job.name,
        False,
        job.instance_type,
        on_demand,
        on_demand,
        on_demand * discount,
        discount,
        f"available with managed spot; {catalog.spot_training_discount_source}",
    )


def spot_summary(jobs: Iterable[TrainingJob], catalog: PriceCatalog, region: str) -> dict[str, Any]:
    savings = [job_saving(job, catalog, region) for job in jobs]
    realised = sum(s.saving_usd or 0.0 for s in savings if s.spot)
    available = sum(s.saving_usd or 0.0 for s in savings if not s.spot)
    return {
        "jobs": [s.to_dict() for s in savings],
        "realised_saving_usd": round(realised, 2),
        "available_saving_usd": round(available, 2),
    }
