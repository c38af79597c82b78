"""Right-sizing of an endpoint variant from its utilisation, walking the instance family ladder.

Utilisation arrives the way SageMaker publishes it: CPUUtilization and GPUUtilization are
summed over cores / GPUs (0-400 % on 4 vCPU), MemoryUtilization is a plain percentage, and
ModelLatency is in microseconds. Each dimension becomes a demand in the instance's own units
(vCPU, GiB, GPUs) at the target utilisation; the recommended type is the cheapest in the
family that meets every demand. A variant whose p99 latency is already close to its SLO is
never downsized, because a smaller instance serves each request more slowly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from lambdas.cost.catalog import InstanceSpec, PriceCatalog


@dataclass(frozen=True)
class VariantUtilisation:
    endpoint: str
    variant: str
    instance_type: str
    instance_count: float
    window_hours: float
    invocations: float
    cpu_percent: float | None = None  # summed over vCPUs
    memory_percent: float | None = None
    gpu_percent: float | None = None  # summed over GPUs
    gpu_memory_percent: float | None = None  # summed over GPUs
    p99_latency_us: float | None = None
    p99_is_maximum: bool = False  # the percentile was unavailable; Maximum (an upper bound) stands in
    latency_slo_ms: float | None = None


@dataclass(frozen=True)
class Thresholds:
    target: float = 0.60  # size so that the busiest dimension runs at this fraction
    memory_target: float = 0.75  # memory does not spike with load the way CPU does
    saturated: float = 0.80  # above this on any dimension: upsize
    latency_headroom: float = 0.70  # downsize only if p99 <= this fraction of the SLO


@dataclass(frozen=True)
class Recommendation:
    endpoint: str
    variant: str
    action: str  # idle | downsize | upsize | scale_out | keep | unknown
    current_type: str
    recommended_type: str | None
    instance_count: float
    monthly_cost_usd: float | None
    monthly_cost_after_usd: float | None
    evidence: list[str] = field(default_factory=list)

    @property
    def monthly_saving_usd(self) -> float:
        if self.monthly_cost_usd is None or self.monthly_cost_after_usd is None:
            return 0.0
        return self.monthly_cost_usd - self.monthly_cost_after_usd

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["monthly_saving_usd"] = round(self.monthly_saving_usd, 2)
        return data


@dataclass(frozen=True)
class _Demand:
    vcpu: float | None
    memory_gib: float | None
    gpus: float | None
    gpu_memory: float | None  # in GPUs' worth of memory (same GPU model within a family)

    def met_by(self, spec: InstanceSpec) -> bool:
        def fits(need: float | None, capacity: float) -> bool:
            # a demand that lands exactly on a capacity (8.000000000000002 vCPU) still fits
            return need is None or need <= capacity * (1.0 + 1e-9)

        return (
            fits(self.vcpu, spec.vcpu)
            and fits(self.memory_gib, spec.memory_gib)
            and fits(self.gpus, spec.gpus)
            and fits(self.gpu_memory, spec.gpus)
        )


def recommend(
    usage: VariantUtilisation, catalog: PriceCatalog, region: str, thresholds: Thresholds | None = None
) -> Recommendation:
    t = thresholds or Thresholds()
    spec = catalog.instance_spec(usage.instance_type)
    price = catalog.hosting_hourly(usage.instance_type, region)
    hours = catalog.hours_per_month

    def result(action: str, new_type: str | None, after: float | None, evidence: list[str]) -> Recommendation:
        now = None if price is None else price.usd * usage.instance_count * hours
        return Recommendation(
            usage.endpoint,
            usage.variant,
            action,
            usage.instance_type,
            new_type,
            usage.instance_count,
            now,
            after,
            evidence,
        )

    if spec is None or price is None:
        return result("unknown", None, None, [f"{usage.instance_type} has no spec or price in {region}"])
    evidence = [
        f"{usage.instance_count:g} x {spec.name} ({spec.vcpu} vCPU, {spec.memory_gib:g} GiB, {spec.gpus} GPU)"
    ]
    if usage.invocations <= 0:
        evidence.append(f"0 invocations in {usage.window_hours:g} h")
        evidence.append("delete the endpoint or move it to serverless inference")
        return result("idle", None, 0.0, evidence)

    per_instance_per_min = usage.invocations / max(usage.instance_count, 1e-9) / (usage.window_hours * 60.0)
    evidence.append(f"{per_instance_per_min:,.1f} invocations per instance per minute")
    fractions = _fractions(usage, spec, evidence)
    latency_fraction = _latency_fraction(usage, evidence)

    ladder = catalog.hosting_family(usage.instance_type, region)
    busiest = max(fractions.values(), default=0.0)
    if busiest > t.saturated or (latency_fraction is not None and latency_fraction > 1.0):
        demand = _demand(fractions, spec, t)
        larger = [(s, p) for s, p in ladder if p.usd > price.usd and demand.met_by(s)]
        if larger:
            chosen, chosen_price = larger[0]
            evidence.append(f"saturated: busiest dimension at {busiest:.0%} (limit {t.saturated:.0%})")
            return result("upsize", chosen.name, chosen_price.usd * usage.instance_count * hours, evidence)
        count = math.ceil(usage.instance_count * max(busiest, 1e-9) / t.target)
        count = max(count, int(usage.instance_count) + 1)
        evidence.append(f"no larger {spec.family} type meets the demand; scale out to {count} instances")
        return result("scale_out", spec.name, price.usd * count * hours, evidence)

    if latency_fraction is not None and latency_fraction > t.latency_headroom:
        evidence.append(
            f"latency-bound: p99 is {latency_fraction:.0%} of the SLO (downsize needs <= {t.latency_headroom:.0%})"
        )
        return result("keep", spec.name, price.usd * usage.instance_count * hours, evidence)
    if not fractions:
        evidence.append("no utilisation metrics: cannot size")
        return result("keep", spec.name, price.usd * usage.instance_count * hours, evidence)

    demand = _demand(fractions, spec, t)
    cheaper = [(s, p) for s, p in ladder if p.usd < price.usd and demand.met_by(s)]
    if not cheaper:
        evidence.append(
            f"right-sized: no cheaper {spec.family} type meets the demand at {t.target:.0%} target"
        )
        return result("keep", spec.name, price.usd * usage.instance_count * hours, evidence)
    chosen, chosen_price = cheaper[0]
    evidence.append(f"demand at target: {_describe(demand)}; {chosen.name} meets it")
    return result("downsize", chosen.name, chosen_price.usd * usage.instance_count * hours, evidence)


def _fractions(usage: VariantUtilisation, spec: InstanceSpec, evidence: list[str]) -> dict[str, float]:
    fractions: dict[str, float] = {}
    if usage.cpu_percent is not None:
        fractions["cpu"] = usage.cpu_percent / (100.0 * spec.vcpu)
        evidence.append(
            f"CPU {usage.cpu_percent:.0f}% over {spec.vcpu} vCPU = {fractions['cpu']:.0%} of capacity"
        )
    if usage.memory_percent is not None:
        fractions["memory"] = usage.memory_percent / 100.0
        evidence.append(f"memory {usage.memory_percent:.0f}%")
    if spec.gpus > 0 and usage.gpu_percent is not None:
        fractions["gpu"] = usage.gpu_percent / (100.0 * spec.gpus)
        evidence.append(
            f"GPU {usage.gpu_percent:.0f}% over {spec.gpus} GPU = {fractions['gpu']:.0%} of capacity"
        )
    if spec.gpus > 0 and usage.gpu_memory_percent is not None:
        fractions["gpu_memory"] = usage.gpu_memory_percent / (100.0 * spec.gpus)
        evidence.append(f"GPU memory {fractions['gpu_memory']:.0%} of capacity")
    return fractions


def _latency_fraction(usage: VariantUtilisation, evidence: list[str]) -> float | None:
    if usage.p99_latency_us is None:
        evidence.append("no latency data")
        return None
    p99_ms = usage.p99_latency_us / 1000.0
    label = "max (p99 unavailable)" if usage.p99_is_maximum else "p99"
    if usage.latency_slo_ms is None or usage.latency_slo_ms <= 0:
        evidence.append(f"{label} model latency {p99_ms:.1f} ms; no SLO given")
        return None
    fraction = p99_ms / usage.latency_slo_ms
    evidence.append(
        f"{label} model latency {p99_ms:.1f} ms = {fraction:.0%} of the {usage.latency_slo_ms:g} ms SLO"
    )
    return fraction


def _demand(fractions: dict[str, float], spec: InstanceSpec, t: Thresholds) -> _Demand:
    def need(key: str, capacity: float, target: float) -> float | None:
        return fractions[key] * capacity / target if key in fractions else None

    gpus = need("gpu", spec.gpus, t.target)
    return _Demand(
        vcpu=need("cpu", spec.vcpu, t.target),
        memory_gib=need("memory", spec.memory_gib, t.memory_target),
        # a GPU model stays on a GPU: at least one
        gpus=None if gpus is None else max(gpus, 1.0),
        gpu_memory=need("gpu_memory", spec.gpus, t.memory_target),
    )


def _describe(demand: _Demand) -> str:
    parts = []
    if demand.vcpu is not None:
        parts.append(f"{demand.vcpu:.2f} vCPU")
    if demand.memory_gib is not None:
        parts.append(f"{demand.memory_gib:.1f} GiB")
    if demand.gpus is not None:
        parts.append(f"{demand.gpus:.2f} GPU")
    return ", ".join(parts)
