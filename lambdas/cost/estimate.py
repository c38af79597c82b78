"""Monthly cost estimate of a cloud assembly: one line per priced component of every resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdas.cost.assembly import UNKNOWN_REGION, StackTemplate
from lambdas.cost.catalog import PriceCatalog
from lambdas.cost.cost_line import Basis, CostLine
from lambdas.cost.job_pricing import JOBS_STACK, price_job
from lambdas.cost.pricer_registry import PRICERS, UNPRICED_TYPES, free_reason, usage_fields_by_type
from lambdas.cost.pricing_context import PricingContext
from lambdas.cost.usage import ResourceKey, UsageFile, resolve_usage


@dataclass(frozen=True)
class StackRegion:
    name: str
    region: str
    assumed: bool  # the template named no region; the estimate used --region / default_region


@dataclass
class Estimate:
    catalog_date: str
    catalog_source: str
    hours_per_month: float
    stacks: list[StackRegion]
    lines: list[CostLine] = field(default_factory=list)

    @property
    def total_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines if line.monthly_usd is not None)

    def lines_with(self, basis: Basis) -> list[CostLine]:
        return [line for line in self.lines if line.basis == basis]

    def stack_totals(self) -> dict[str, float]:
        totals = {s.name: 0.0 for s in self.stacks}
        for line in self.lines:
            if line.monthly_usd is not None:
                totals[line.stack] = totals.get(line.stack, 0.0) + line.monthly_usd
        return totals

    def resource_totals(self) -> dict[tuple[str, str], tuple[str, float | None]]:
        """(stack, logical id) -> (type, monthly USD or None when any component is unpriced)."""
        totals: dict[tuple[str, str], tuple[str, float | None]] = {}
        for line in self.lines:
            resource_type, running = totals.get(line.resource_key, (line.resource_type, 0.0))
            if running is None or line.monthly_usd is None:
                value = None if line.basis in (Basis.UNPRICED, Basis.NO_USAGE) else running
            else:
                value = running + line.monthly_usd
            totals[line.resource_key] = (resource_type, value)
        return totals

    def to_dict(self) -> dict[str, Any]:
        totals = self.stack_totals()
        return {
            "catalog_date": self.catalog_date,
            "catalog_source": self.catalog_source,
            "hours_per_month": self.hours_per_month,
            "total_monthly_usd": round(self.total_usd, 2),
            "stacks": [
                {
                    "name": s.name,
                    "region": s.region,
                    "region_assumed": s.assumed,
                    "monthly_usd": round(total, 2),
                }
                for s, total in ((s, totals[s.name]) for s in self.stacks)
            ],
            "unpriced": len(self.lines_with(Basis.UNPRICED)),
            "awaiting_usage": len(self.lines_with(Basis.NO_USAGE)),
            "lines": [line.to_dict() for line in self.lines],
        }


def estimate_assembly(
    stacks: Sequence[StackTemplate],
    catalog: PriceCatalog,
    *,
    usage: UsageFile | None = None,
    default_region: str | None = None,
    usage_source: str = "usage",
    ignore_unmatched_usage: bool = False,
) -> Estimate:
    usage = usage or UsageFile()
    fallback_region = default_region or usage.default_region
    keys = [
        ResourceKey(stack.name, logical_id, str(resource["Type"]), _cdk_path(resource))
        for stack in stacks
        for logical_id, resource in stack.resources.items()
    ]
    resolved = resolve_usage(
        usage, keys, usage_fields_by_type(), source=usage_source, ignore_unmatched=ignore_unmatched_usage
    )
    regions = []
    lines: list[CostLine] = []
    for stack in stacks:
        assumed = stack.region == UNKNOWN_REGION and fallback_region is not None
        region = fallback_region if assumed and fallback_region else stack.region
        regions.append(StackRegion(stack.name, region, assumed))
        parameters = stack.template.get("Parameters") or {}
        parameters = parameters if isinstance(parameters, Mapping) else {}
        for logical_id, resource in stack.resources.items():
            ctx = PricingContext(
                stack=stack.name,
                region=region,
                logical_id=logical_id,
                resource_type=str(resource["Type"]),
                properties=resource.get("Properties") or {},
                parameters=parameters,
                catalog=catalog,
                usage=resolved.get((stack.name, logical_id)),
            )
            lines.extend(price_resource(ctx))
    if usage.jobs:
        regions.append(StackRegion(JOBS_STACK, fallback_region or UNKNOWN_REGION, False))
        lines.extend(price_job(job, catalog, fallback_region) for job in usage.jobs)
    return Estimate(catalog.date, catalog.source, catalog.hours_per_month, regions, lines)


def price_resource(ctx: PricingContext) -> list[CostLine]:
    entry = PRICERS.get(ctx.resource_type)
    if entry is not None:
        if not isinstance(ctx.properties, Mapping):
            return [ctx.unpriced("resource", "Properties is not a mapping")]
        try:
            return entry.pricer(ctx)
        except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError) as exc:
            # An unexpected template shape must cost one unpriced line, not the whole report.
            return [
                ctx.unpriced("resource", f"could not read its properties ({exc.__class__.__name__}: {exc})")
            ]
    if ctx.resource_type in UNPRICED_TYPES:
        return [ctx.unpriced("resource", UNPRICED_TYPES[ctx.resource_type])]
    reason = free_reason(ctx.resource_type)
    if reason is not None:
        return [ctx.free(reason)]
    return [ctx.unpriced("resource", "no pricer for this resource type")]


def _cdk_path(resource: Mapping[str, Any]) -> str:
    metadata = resource.get("Metadata")
    if isinstance(metadata, Mapping):
        path = metadata.get("aws:cdk:path")
        if isinstance(path, str):
            return path
    return ""
