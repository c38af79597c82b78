"""Render an estimate as a table, Markdown, JSON or a single total line."""

from __future__ import annotations

import json

from lambdas.cost.cost_line import Basis, CostLine
from lambdas.cost.estimate import Estimate


def money(usd: float | None) -> str:
    return "—" if usd is None else f"${usd:,.2f}"


def _shown(line: CostLine) -> str:
    if line.basis == Basis.UNPRICED:
        return "unpriced"
    if line.basis == Basis.NO_USAGE:
        return "needs usage"
    return money(line.monthly_usd)


def render_total(estimate: Estimate) -> str:
    unpriced = len(estimate.lines_with(Basis.UNPRICED))
    waiting = len(estimate.lines_with(Basis.NO_USAGE))
    assumed = [s.name for s in estimate.stacks if s.assumed]
    notes = [f"{len(estimate.stacks)} stacks"]
    if unpriced:
        notes.append(f"{unpriced} unpriced")
    if waiting:
        notes.append(f"{waiting} awaiting usage")
    if assumed:
        notes.append(f"region assumed for {len(assumed)}")
    return (
        f"Estimated monthly cost: {money(estimate.total_usd)} ({', '.join(notes)}; "
        f"{estimate.hours_per_month:g} h/month; catalog {estimate.catalog_date})"
    )


def render_json(estimate: Estimate) -> str:
    return json.dumps(estimate.to_dict(), indent=2)


def render_table(estimate: Estimate) -> str:
    rows = [("stack", "resource", "type", "component", "monthly", "how")]
    for line in _ordered(estimate):
        if line.basis == Basis.FREE:
            continue
        rows.append(
            (line.stack, line.logical_id, line.resource_type, line.component, _shown(line), line.detail)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    out = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) if i != 4 else row[i].rjust(widths[i]) for i in range(5)]
        out.append("  ".join([*cells, row[5]]).rstrip())
    out.append("")
    out.extend(_stack_summary(estimate))
    out.append(render_total(estimate))
    out.append(f"Prices: {estimate.catalog_source}")
    return "\n".join(out)


def render_markdown(estimate: Estimate) -> str:
    out = [
        f"### Estimated monthly cost: {money(estimate.total_usd)}",
        "",
        "| stack | region | monthly |",
        "|---|---|---:|",
    ]
    totals = estimate.stack_totals()
    for stack in estimate.stacks:
        region = f"{stack.region} (assumed)" if stack.assumed else stack.region
        out.append(f"| {stack.name} | {region} | {money(totals.get(stack.name))} |")
    out += ["", "| stack | resource | type | component | monthly | how |", "|---|---|---|---|---:|---|"]
    for line in _ordered(estimate):
        if line.basis == Basis.FREE:
            continue
        detail = line.detail.replace("|", "\\|")
        out.append(
            f"| {line.stack} | `{line.logical_id}` | {line.resource_type} | {line.component} | {_shown(line)} | {detail} |"
        )
    out += [
        "",
        f"_{render_total(estimate)}. Prices: {estimate.catalog_source}_",
    ]
    return "\n".join(out)


def _stack_summary(estimate: Estimate) -> list[str]:
    totals = estimate.stack_totals()
    lines = []
    for stack in estimate.stacks:
        region = f"{stack.region}, assumed" if stack.assumed else stack.region
        lines.append(f"{stack.name} ({region}): {money(totals.get(stack.name))}")
    return lines


def _ordered(estimate: Estimate) -> list[CostLine]:
    # Most expensive first; unpriced lines after the priced ones of their stack.
    return sorted(
        estimate.lines,
        key=lambda line: (line.stack, line.monthly_usd is None, -(line.monthly_usd or 0.0), line.logical_id),
    )
