"""Dated price catalog: list prices per service, region and usage unit.

The catalog is data (a JSON file next to this module) so that a refresh from the AWS Price
List API can write a new dated file without touching code. Prices are stored once for the
base region with a per-region factor; an explicit per-region override (what a refresh
writes) wins over the factor. A region the service has no factor or override for has no
price: callers report that line as unpriced instead of guessing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lambdas.common.errors import InputError

HOURS_PER_MONTH = 730.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
DEFAULT_CATALOG_PATH = Path(__file__).with_name("price_catalog_2025-06-01.json")


@dataclass(frozen=True)
class Price:
    """One list price with the provenance every report must show."""

    service: str
    key: str
    region: str
    usd: float
    unit: str
    date: str
    source: str


@dataclass(frozen=True)
class InstanceSpec:
    """Capacity of one SageMaker instance type; the right-sizing ladder is built from these."""

    name: str
    vcpu: int
    memory_gib: float
    gpus: int
    neuron_devices: int

    @property
    def family(self) -> str:
        # "ml.g5.2xlarge" -> "g5"
        parts = self.name.split(".")
        return parts[1] if len(parts) == 3 else self.name


@dataclass(frozen=True)
class _Service:
    source: str
    base_region: str
    regional_factors: Mapping[str, float]
    prices: Mapping[str, tuple[float, str]]


class PriceCatalog:
    """Read-only view over a catalog document (see price_catalog_*.json)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        try:
            self.date: str = str(document["catalog_date"])
            self.source: str = str(document["source"])
            self.currency: str = str(document.get("currency", "USD"))
            self.hours_per_month = float(document.get("hours_per_month", HOURS_PER_MONTH))
            spot = document["spot_training_discount"]
            self.spot_training_discount = float(spot["value"])
            self.spot_training_discount_source = str(spot["source"])
            self._specs = {
                name: InstanceSpec(
                    name=name,
                    vcpu=int(s["vcpu"]),
                    memory_gib=float(s["memory_gib"]),
                    gpus=int(s.get("gpus", 0)),
                    neuron_devices=int(s.get("neuron_devices", 0)),
                )
                for name, s in document["sagemaker_instance_specs"].items()
            }
            self._services = {
                name: _Service(
                    source=str(s["source"]),
                    base_region=str(s["base_region"]),
                    regional_factors={r: float(f) for r, f in s["regional_factors"].items()},
                    prices={k: (float(p["usd"]), str(p["unit"])) for k, p in s["prices"].items()},
                )
                for name, s in document["services"].items()
            }
            self._overrides: dict[tuple[str, str, str], Price] = {}
            for region, services in document.get("overrides", {}).items():
                for service, prices in services.items():
                    for key, p in prices.items():
                        self._overrides[(service, key, region)] = Price(
                            service,
                            key,
                            region,
                            float(p["usd"]),
                            str(p["unit"]),
                            str(p["date"]),
                            str(p["source"]),
                        )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError.single("price catalog", f"malformed catalog document ({exc!r})") from exc
        self._document = dict(document)

    @classmethod
    def load(cls, path: Path | str | None = None) -> PriceCatalog:
        target = Path(path) if path else DEFAULT_CATALOG_PATH
        try:
            document = json.loads(target.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError.single(str(target), f"cannot read price catalog ({exc})") from exc
        return cls(document)

    def to_document(self) -> dict[str, Any]:
        document = dict(self._document)
        overrides: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        for (service, key, region), p in sorted(self._overrides.items()):
            overrides.setdefault(region, {}).setdefault(service, {})[key] = {
                "usd": p.usd,
                "unit": p.unit,
                "date": p.date,
                "source": p.source,
            }
        document["overrides"] = overrides
        return document

    def with_overrides(self, prices: Iterable[Price], *, catalog_date: str | None = None) -> PriceCatalog:
        """A new catalog where these region-specific prices replace the derived ones."""
        document = self.to_document()
        if catalog_date:
            document["catalog_date"] = catalog_date
        for p in prices:
            document["overrides"].setdefault(p.region, {}).setdefault(p.service, {})[p.key] = {
                "usd": p.usd,
                "unit": p.unit,
                "date": p.date,
                "source": p.source,
            }
        return PriceCatalog(document)

    @property
    def services(self) -> list[str]:
        return sorted(self._services)

    def regions(self, service: str) -> set[str]:
        svc = self._services.get(service)
        regions = set(svc.regional_factors) if svc else set()
        return regions | {r for (s, _, r) in self._overrides if s == service}

    def price(self, service: str, key: str, region: str) -> Price | None:
        """The price of one unit, or None when the catalog cannot price it in that region."""
        override = self._overrides.get((service, key, region))
        if override is not None:
            return override
        svc = self._services.get(service)
        if svc is None or key not in svc.prices:
            return None
        factor = svc.regional_factors.get(region)
        if factor is None:
            return None
        usd, unit = svc.prices[key]
        source = svc.source
        if region != svc.base_region:
            source = f"{svc.source} ({svc.base_region} list price x {factor:g} regional factor)"
        return Price(service, key, region, usd * factor, unit, self.date, source)

    def instance_types(self) -> list[str]:
        return sorted(self._specs)

    def opensearch_instance_types(self) -> list[str]:
        svc = self._services.get("opensearch")
        keys = svc.prices if svc else {}
        return sorted(k.removeprefix("instance:") for k in keys if k.startswith("instance:"))

    def instance_spec(self, instance_type: str) -> InstanceSpec | None:
        return self._specs.get(instance_type)

    def hosting_hourly(self, instance_type: str, region: str) -> Price | None:
        return self.price("sagemaker", f"hosting:{instance_type}", region)

    def training_hourly(self, instance_type: str, region: str) -> Price | None:
        return self.price("sagemaker", f"training:{instance_type}", region)

    def spot_training_hourly(self, instance_type: str, region: str) -> Price | None:
        on_demand = self.training_hourly(instance_type, region)
        if on_demand is None:
            return None
        return Price(
            on_demand.service,
            f"spot-{on_demand.key}",
            region,
            on_demand.usd * (1.0 - self.spot_training_discount),
            on_demand.unit,
            on_demand.date,
            f"{on_demand.source}; {self.spot_training_discount_source}",
        )

    def hosting_family(self, instance_type: str, region: str) -> list[tuple[InstanceSpec, Price]]:
        """The instance types of this type's family that have a hosting price, cheapest first."""
        spec = self.instance_spec(instance_type)
        if spec is None:
            return []
        ladder = []
        for other in self._specs.values():
            if other.family != spec.family:
                continue
            price = self.hosting_hourly(other.name, region)
            if price is not None:
                ladder.append((other, price))
        return sorted(ladder, key=lambda item: (item[1].usd, item[0].vcpu))


@cache
def default_catalog() -> PriceCatalog:
    return PriceCatalog.load()


def monthly_request_cost(requests_per_second: float, usd_per_request: float) -> float:
    """Monthly cost of a steady request rate over a 730-hour month."""
    return requests_per_second * SECONDS_PER_MONTH * usd_per_request
