"""Cost per inference of one endpoint variant over a measurement window."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lambdas.cost.catalog import PriceCatalog


@dataclass(frozen=True)
class VariantCost:
    endpoint: str
    variant: str
    instance_type: str
    average_instance_count: float
    window_hours: float
    invocations: float
    window_cost_usd: float | None
    cost_per_inference_usd: float | None  # None: no invocations, or no price
    monthly_cost_usd: float | None
    price_source: str

    @property
    def cost_per_thousand_usd(self) -> float | None:
        return None if self.cost_per_inference_usd is None else self.cost_per_inference_usd * 1000.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cost_per_thousand_usd"] = self.cost_per_thousand_usd
        return data


def variant_cost(
    catalog: PriceCatalog,
    region: str,
    *,
    endpoint: str,
    variant: str,
    instance_type: str,
    average_instance_count: float,
    window_hours: float,
    invocations: float,
) -> VariantCost:
    """Instance-hours in the window times the hourly price, divided by the invocations served."""
    price = catalog.hosting_hourly(instance_type, region)
    if price is None:
        return VariantCost(
            endpoint,
            variant,
            instance_type,
            average_instance_count,
            window_hours,
            invocations,
            None,
            None,
            None,
            f"no price for {instance_type} in {region} (catalog {catalog.date})",
        )
    window_cost = average_instance_count * window_hours * price.usd
    per_inference = window_cost / invocations if invocations > 0 else None
    monthly = average_instance_count * catalog.hours_per_month * price.usd
    return VariantCost(
        endpoint,
        variant,
        instance_type,
        average_instance_count,
        window_hours,
        invocations,
        window_cost,
        per_inference,
        monthly,
        f"{price.source} (catalog {price.date})",
    )


def average_instance_count(
    invocations: float, invocations_per_instance: float, current_count: float
) -> float:
    """Time-averaged instance count from the two invocation sums, else the current count.

    SageMaker publishes InvocationsPerInstance = Invocations / instances in service for each
    period, so the ratio of their sums is the invocation-weighted average count: it follows
    autoscaling where the endpoint's current count would not.
    """
    if invocations > 0 and invocations_per_instance > 0:
        return invocations / invocations_per_instance
    return current_count


def serverless_variant_cost(
    catalog: PriceCatalog,
    region: str,
    *,
    endpoint: str,
    variant: str,
    memory_mb: float,
    window_hours: float,
    invocations: float,
    average_latency_us: float | None,
) -> VariantCost:
    """Serverless inference bills compute per GB-second of processing; ModelLatency stands in for it.

    ModelLatency leaves out the container overhead that is also billed, so the figure is a
    lower bound; the source text says so.
    """
    label = f"serverless {memory_mb:g} MB"
    price = catalog.price("sagemaker", "serverless_inference_gb_second", region)
    if price is None or average_latency_us is None:
        reason = f"no serverless price in {region}" if price is None else "no ModelLatency data"
        return VariantCost(endpoint, variant, label, 0.0, window_hours, invocations, None, None, None, reason)
    gb_seconds = invocations * average_latency_us / 1e6 * memory_mb / 1024.0
    window_cost = gb_seconds * price.usd
    per_inference = window_cost / invocations if invocations > 0 else None
    monthly = window_cost * catalog.hours_per_month / window_hours if window_hours > 0 else None
    source = f"{price.source} (catalog {price.date}); lower bound: ModelLatency excludes billed overhead"
    return VariantCost(
        endpoint, variant, label, 0.0, window_hours, invocations, window_cost, per_inference, monthly, source
    )
