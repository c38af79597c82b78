"""Self-contained HTML report of an analysis: decision, SRM, tables and inline-SVG lift plots.

No scripts, stylesheets or fonts are fetched: the file renders the same when opened from an
S3 console download, an email attachment or a CI artifact.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

_ROW_HEIGHT = 28
_WIDTH = 560
_LABEL_WIDTH = 90
_MARGIN = 20
_COLOURS = {"better": "#1a7f37", "worse": "#cf222e", "no significant difference": "#57606a"}


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "&ndash;"
    if percent:
        return f"{value:+.2%}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def _interval(ci: list[float | None] | None, percent: bool) -> str:
    if not ci:
        return "&ndash;"
    return f"[{_fmt(ci[0], percent)}, {_fmt(ci[1], percent)}]"


def lift_plot(metric: dict[str, Any]) -> str:
    """Forest plot of each treatment's lift with its interval; relative lift when defined."""
    comparisons: dict[str, dict[str, Any]] = metric["comparisons"]
    relative = all(c["lift_relative"] is not None and c["ci_relative"] for c in comparisons.values())
    rows = []
    for variant, c in comparisons.items():
        point = c["lift_relative"] if relative else c["lift_absolute"]
        low, high = c["ci_relative"] if relative else c["ci_absolute"]
        rows.append((variant, point, low, high, c["verdict"]))
    finite = [v for _, p, lo, hi, _ in rows for v in (p, lo, hi) if v is not None and math.isfinite(v)]
    span = max([abs(v) for v in finite] + [1e-12]) * 1.1
    plot_width = _WIDTH - _LABEL_WIDTH - 2 * _MARGIN
    height = _ROW_HEIGHT * len(rows) + 2 * _MARGIN

    def x(value: float | None, fallback: float) -> float:
        v = fallback if value is None or not math.isfinite(value) else value
        v = max(-span, min(span, v))
        return _LABEL_WIDTH + _MARGIN + (v + span) / (2 * span) * plot_width

    zero = x(0.0, 0.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" role="img" '
        f'aria-label="lift of {escape(metric["name"])}">',
        f'<line x1="{zero:.1f}" y1="{_MARGIN / 2}" x2="{zero:.1f}" y2="{height - _MARGIN / 2}" '
        'stroke="#8c959f" stroke-dasharray="4 3"/>',
    ]
    for i, (variant, point, low, high, verdict) in enumerate(rows):
        y = _MARGIN + _ROW_HEIGHT * i + _ROW_HEIGHT / 2
        colour = _COLOURS.get(verdict, "#57606a")
        parts.append(
            f'<text x="4" y="{y + 4:.1f}" font-size="12" font-family="sans-serif">{escape(variant)}</text>'
        )
        parts.append(
            f'<line x1="{x(low, -span):.1f}" y1="{y:.1f}" x2="{x(high, span):.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(f'<circle cx="{x(point, 0.0):.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>')
    axis = (lambda v: f"{v:+.1%}") if relative else (lambda v: f"{v:+.3g}")
    parts.append(
        f'<text x="{_LABEL_WIDTH + _MARGIN}" y="{height - 2}" font-size="10" font-family="sans-serif">{axis(-span)}</text>'
    )
    parts.append(
        f'<text x="{_WIDTH - _MARGIN}" y="{height - 2}" font-size="10" font-family="sans-serif" '
        f'text-anchor="end">{axis(span)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _metric_section(metric: dict[str, Any], control: str) -> str:
    tags = []
    if metric["primary"]:
        tags.append("decision metric")
    if metric["guardrail"]:
        tags.append("guardrail")
    if metric["cuped_theta"] is not None:
        tags.append(f"CUPED θ={metric['cuped_theta']:.3g}")
    tags.append("higher is better" if metric["higher_is_better"] else "lower is better")
    rows = []
    for variant, summary in metric["variants"].items():
        c = metric["comparisons"].get(variant)
        if c is None:
            rows.append(
                f"<tr><td>{escape(variant)} (control)</td><td>{summary['n']}</td><td>{_fmt(summary['mean'])}</td>"
                + "<td>&ndash;</td>" * 6
                + "</tr>"
            )
            continue
        guard = escape(c["guardrail"]["status"]) if c["guardrail"] else "&ndash;"
        rows.append(
            f"<tr><td>{escape(variant)}</td><td>{summary['n']}</td><td>{_fmt(summary['mean'])}</td>"
            f"<td>{_fmt(c['lift_relative'], True)} {_interval(c['ci_relative'], True)}</td>"
            f"<td>{_fmt(c['lift_absolute'])} {_interval(c['ci_absolute'], False)}</td>"
            f"<td>{_fmt(c['p_value'])}</td><td>{_fmt(c['p_value_adjusted'])}</td>"
            f"<td>{c['chance_to_win']:.1%}</td><td>{guard}</td></tr>"
        )
    return (
        f"<section><h2>{escape(metric['name'])} <small>({escape(metric['type'])}; {escape(', '.join(tags))})</small></h2>"
        f"{lift_plot(metric)}"
        "<table><thead><tr><th>variant</th><th>n</th><th>mean</th><th>relative lift [CI]</th>"
        "<th>absolute lift [CI]</th><th>p</th><th>adjusted p</th><th>chance to win</th><th>guardrail</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p class='note'>Control: {escape(control)}.</p></section>"
    )


def render_html(result: dict[str, Any], title: str = "A/B test analysis") -> str:
    """Render the JSON form of an ``AnalysisResult`` (``AnalysisResult.to_dict()``)."""
    decision = result["decision"]
    srm = result["srm"]
    srm_rows = "".join(
        f"<tr><td>{escape(v)}</td><td>{n}</td><td>{srm['expected'][v]:.0f}</td></tr>"
        for v, n in srm["observed"].items()
    )
    mode = "sequential (always-valid, mSPRT)" if result["sequential"] else "fixed horizon"
    progress = f"; progress {result['progress']:.0%}" if result.get("progress") is not None else ""
    sections = "".join(_metric_section(m, result["control"]) for m in result["metrics"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #1f2328; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
td, th {{ border: 1px solid #d0d7de; padding: 3px 8px; text-align: right; font-size: 13px; }}
td:first-child, th:first-child {{ text-align: left; }}
.decision {{ padding: 0.8em; border-radius: 6px; background: #f6f8fa; border-left: 6px solid #0969da; }}
.srm-bad {{ color: #cf222e; font-weight: bold; }}
.note {{ color: #57606a; font-size: 12px; }}
</style></head><body>
<h1>{escape(title)}</h1>
<div class="decision"><strong>Decision: {escape(decision["action"])}{
        " " + escape(decision["variant"]) if decision.get("variant") else ""
    }</strong><br>{escape(decision["reason"])}</div>
<p>Mode: {mode}; alpha {result["alpha"]}; correction {escape(result["correction"])}{progress}.</p>
<h2>Sample ratio</h2>
<p class="{"srm-bad" if srm["mismatch"] else ""}">chi-square p = {srm["p_value"]:.3g}{
        " &mdash; mismatch: no conclusion is drawn"
        if srm["mismatch"]
        else " &mdash; consistent with the weights"
    }</p>
<table><thead><tr><th>variant</th><th>observed</th><th>expected</th></tr></thead><tbody>{
        srm_rows
    }</tbody></table>
{sections}
</body></html>
"""
