"""Price the usage file's scheduled jobs: runs per month x hours per run x capacity."""

from __future__ import annotations

from lambdas.cost.assembly import UNKNOWN_REGION
from lambdas.cost.catalog import PriceCatalog
from lambdas.cost.cost_line import Basis, CostLine
from lambdas.cost.usage import ScheduledJob

JOBS_STACK = "(scheduled jobs)"
_TYPES = {
    "sagemaker_training": "SageMaker training job",
    "sagemaker_processing": "SageMaker processing job",
    "glue": "Glue job",
}


def price_job(job: ScheduledJob, catalog: PriceCatalog, region: str | None) -> CostLine:
    resource_type = _TYPES[job.service]
    where = job.region or region or UNKNOWN_REGION
    hours = job.hours_per_run * job.runs_per_month
    note = f"; {job.note}" if job.note else ""

    def line(component: str, usd: float | None, detail: str, source: str = "") -> CostLine:
        basis = Basis.USAGE if usd is not None else Basis.UNPRICED
        return CostLine(JOBS_STACK, job.name, resource_type, component, basis, usd, detail + note, source)

    if job.service == "glue":
        price = catalog.price("glue", "dpu_hour", where)
        if price is None:
            return line("DPU-hours", None, f"no Glue price in region {where}")
        dpu_hours = (job.dpus or 0.0) * hours
        return line(
            "DPU-hours",
            dpu_hours * price.usd,
            f"{job.runs_per_month:.4g} runs x {job.hours_per_run:g} h x {job.dpus:g} DPU x ${price.usd:g}/DPU-hour",
            price.source,
        )
    instance_type = job.instance_type or ""
    # Processing jobs bill at the training rate of the same instance type.
    price = (
        catalog.spot_training_hourly(instance_type, where)
        if job.spot
        else catalog.training_hourly(instance_type, where)
    )
    kind = "spot" if job.spot else "on-demand"
    if price is None:
        return line(
            f"{instance_type} ({kind})", None, f"no training price for {instance_type} in region {where}"
        )
    instance_hours = hours * job.instance_count
    return line(
        f"{instance_type} ({kind})",
        instance_hours * price.usd,
        f"{job.runs_per_month:.4g} runs x {job.hours_per_run:g} h x {job.instance_count} instance(s) x ${price.usd:.4g}/h",
        price.source,
    )
