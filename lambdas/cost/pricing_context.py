"""What a resource pricer sees, and the helpers that turn a price and a quantity into a line."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdas.cost.assembly import UNKNOWN_REGION
from lambdas.cost.catalog import PriceCatalog
from lambdas.cost.cost_line import Basis, CostLine
from lambdas.cost.usage import ResourceUsage

_HOURLY_UNITS = ("-hour",)


@dataclass(frozen=True)
class PricingContext:
    stack: str
    region: str
    logical_id: str
    resource_type: str
    properties: Mapping[str, Any]
    parameters: Mapping[str, Any]
    catalog: PriceCatalog
    usage: ResourceUsage | None

    def _line(
        self, component: str, basis: Basis, usd: float | None, detail: str, source: str = ""
    ) -> CostLine:
        return CostLine(
            self.stack, self.logical_id, self.resource_type, component, basis, usd, detail, source
        )

    def free(self, detail: str) -> CostLine:
        return self._line("resource", Basis.FREE, 0.0, detail)

    def unpriced(self, component: str, reason: str) -> CostLine:
        return self._line(component, Basis.UNPRICED, None, reason)

    def no_usage(self, component: str, fields: str) -> CostLine:
        return self._line(component, Basis.NO_USAGE, None, f"usage-priced: give {fields} in the usage file")

    def usage_value(self, field: str) -> float | None:
        return None if self.usage is None else getattr(self.usage, field)

    def fixed(self, component: str, service: str, key: str, quantity: float, quantity_text: str) -> CostLine:
        """Quantity of an hourly or monthly unit held all month (instances, keys, alarms)."""
        return self._priced(component, Basis.FIXED, service, key, quantity, quantity_text, monthly=True)

    def metered(
        self, component: str, service: str, key: str, quantity: float, quantity_text: str
    ) -> CostLine:
        """Quantity of a unit consumed per month (requests, GB-seconds, GB ingested)."""
        return self._priced(component, Basis.USAGE, service, key, quantity, quantity_text, monthly=False)

    def _priced(
        self,
        component: str,
        basis: Basis,
        service: str,
        key: str,
        quantity: float,
        quantity_text: str,
        *,
        monthly: bool,
    ) -> CostLine:
        if not math.isfinite(quantity) or quantity < 0:
            return self.unpriced(component, f"quantity {quantity_text} is negative or not finite")
        price = self.catalog.price(service, key, self.region)
        if price is None and self.region == UNKNOWN_REGION:
            return self.unpriced(component, "the stack names no region (environment-agnostic): pass --region")
        if price is None:
            return self.unpriced(
                component,
                f"no {service} price for '{key}' in region {self.region} (catalog {self.catalog.date})",
            )
        hours = self.catalog.hours_per_month if monthly and price.unit.endswith(_HOURLY_UNITS) else 1.0
        usd = quantity * price.usd * hours
        if not math.isfinite(usd):
            return self.unpriced(component, f"{quantity_text} overflows a monthly figure")
        per = f" x {hours:g} h" if hours != 1.0 else ""
        detail = f"{quantity_text}{per} x ${price.usd:.10g}/{price.unit}"
        return self._line(component, basis, usd, detail, price.source)
