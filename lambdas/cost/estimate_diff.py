"""Monthly cost delta per resource between two estimates, for a pull-request comment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdas.cost.estimate import Estimate
from lambdas.cost.estimate_report import money


@dataclass(frozen=True)
class ResourceDelta:
    stack: str
    logical_id: str
    resource_type: str
    old_usd: float | None  # None: absent, or not fully priced
    new_usd: float | None
    change: str  # added | removed | changed | unpriced

    @property
    def delta_usd(self) -> float | None:
        if self.change == "added":
            return self.new_usd
        if self.change == "removed":
            return None if self.old_usd is None else -self.old_usd
        if self.old_usd is None or self.new_usd is None:
            return None
        return self.new_usd - self.old_usd


@dataclass(frozen=True)
class EstimateDiff:
    old_total: float
    new_total: float
    deltas: list[ResourceDelta]
    catalog_date: str

    @property
    def total_delta(self) -> float:
        return self.new_total - self.old_total

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_monthly_usd": round(self.old_total, 2),
            "new_monthly_usd": round(self.new_total, 2),
            "delta_monthly_usd": round(self.total_delta, 2),
            "catalog_date": self.catalog_date,
            "resources": [
                {
                    "stack": d.stack,
                    "logical_id": d.logical_id,
                    "type": d.resource_type,
                    "change": d.change,
                    "old_monthly_usd": d.old_usd,
                    "new_monthly_usd": d.new_usd,
                    "delta_monthly_usd": d.delta_usd,
                }
                for d in self.deltas
            ],
        }


def diff_estimates(old: Estimate, new: Estimate) -> EstimateDiff:
    before = old.resource_totals()
    after = new.resource_totals()
    deltas: list[ResourceDelta] = []
    for key in sorted(set(before) | set(after)):
        old_type, old_usd = before.get(key, ("", None))
        new_type, new_usd = after.get(key, ("", None))
        if key not in before:
            change = "added"
        elif key not in after:
            change = "removed"
        elif old_usd is None or new_usd is None:
            change = "unpriced"
        elif abs(new_usd - old_usd) < 0.005:
            continue
        else:
            change = "changed"
        if change == "unpriced" and old_type == new_type and old_usd == new_usd:
            continue
        deltas.append(ResourceDelta(key[0], key[1], new_type or old_type, old_usd, new_usd, change))
    deltas.sort(key=lambda d: -abs(d.delta_usd or 0.0))
    return EstimateDiff(old.total_usd, new.total_usd, deltas, new.catalog_date)


def render_diff_markdown(diff: EstimateDiff) -> str:
    sign = "+" if diff.total_delta >= 0 else "-"
    out = [
        f"### Monthly cost change: {sign}{money(abs(diff.total_delta))} "
        f"({money(diff.old_total)} → {money(diff.new_total)})",
        "",
    ]
    if not diff.deltas:
        out.append("No resource changes its monthly cost.")
    else:
        out += [
            "| stack | resource | type | change | before | after | delta |",
            "|---|---|---|---|---:|---:|---:|",
        ]
        for d in diff.deltas:
            delta = d.delta_usd
            shown = "unpriced" if delta is None else f"{'+' if delta >= 0 else '-'}{money(abs(delta))}"
            out.append(
                f"| {d.stack} | `{d.logical_id}` | {d.resource_type} | {d.change} | "
                f"{money(d.old_usd)} | {money(d.new_usd)} | {shown} |"
            )
    out += ["", f"_Prices of catalog {diff.catalog_date}; 730 h/month._"]
    return "\n".join(out)
