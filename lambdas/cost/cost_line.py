"""The unit of every cost report: one priced (or unpriced) component of one resource."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Basis(StrEnum):
    FIXED = "fixed"  # from template properties alone
    USAGE = "usage"  # from the usage file
    FREE = "free"  # no charge of its own
    NO_USAGE = "no-usage"  # usage-priced, but the usage file gives no quantity
    UNPRICED = "unpriced"  # the estimate cannot say; never counted as zero silently


@dataclass(frozen=True)
class CostLine:
    stack: str
    logical_id: str
    resource_type: str
    component: str
    basis: Basis
    monthly_usd: float | None
    detail: str = ""
    price_source: str = ""

    @property
    def resource_key(self) -> tuple[str, str]:
        return (self.stack, self.logical_id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["basis"] = self.basis.value
        return data
