"""Self-contained HTML drift report: one page, no scripts, no external resources.

Per feature: baseline vs current shares as an inline SVG bar chart (deciles of the
baseline for numeric features, categories for categorical ones, plus missing values),
then a table of every feature's statistics, status and verdict.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from lambdas.drift.categorical_profile import OTHER, CategoricalProfile
from lambdas.drift.dataset_profile import DatasetProfile, FeatureProfile
from lambdas.drift.decision import DriftResult, FeatureResult
from lambdas.drift.numeric_profile import NumericProfile
from lambdas.drift.statistics import coarse_bin_labels, histogram_counts, shares

BASELINE_COLOUR = "#4c72b0"
CURRENT_COLOUR = "#dd8452"
MAX_BARS = 25
STAT_COLUMNS = (
    "psi",
    "js_distance",
    "ks_statistic",
    "ks_p_value",
    "wasserstein",
    "chi2",
    "chi2_p_value",
    "linf",
)

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3}td.l{text-align:left}.drift{background:#fde2e1}.warn{background:#fff4d6}
.feature{display:inline-block;margin:0 1.5em 1.5em 0;vertical-align:top}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
"""


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "&ndash;"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3g}"
    return f"{value:.4f}"


def _numeric_labels(profile: NumericProfile, groups: int) -> list[str]:
    labels = coarse_bin_labels(profile.counts, groups)
    starts = [int(np.argmax(labels == g)) for g in range(int(labels.max()) + 1)]
    lowers = [-math.inf if j == 0 else float(profile.edges[j - 1]) for j in starts]
    uppers = [*lowers[1:], math.inf]
    out = []
    for low, high in zip(lowers, uppers, strict=True):
        if math.isinf(low):
            out.append(f"< {high:.4g}" if math.isfinite(high) else "all")
        elif math.isinf(high):
            out.append(f"≥ {low:.4g}")
        else:
            out.append(f"[{low:.4g}, {high:.4g})")
    return [*out, "missing"]


def _bars(
    baseline: FeatureProfile, current: FeatureProfile, groups: int
) -> tuple[list[str], list[float], list[float]]:
    if isinstance(baseline, NumericProfile) and isinstance(current, NumericProfile):
        counts_b, counts_c = histogram_counts(baseline, current, groups)
        labels = _numeric_labels(baseline, groups)
    elif isinstance(baseline, CategoricalProfile) and isinstance(current, CategoricalProfile):
        counts_b = np.append(baseline.counts, baseline.missing_count)
        counts_c = np.append(current.counts, current.missing_count)
        labels = [*baseline.categories, f"{OTHER} (unseen)", "missing"]
    else:
        return [], [], []
    keep = [i for i in range(len(labels)) if counts_b[i] or counts_c[i]][:MAX_BARS]
    p, q = shares(counts_b), shares(counts_c)
    return [labels[i] for i in keep], [float(p[i]) for i in keep], [float(q[i]) for i in keep]


def histogram_svg(labels: list[str], baseline: list[float], current: list[float]) -> str:
    """Paired bars per bin, heights scaled to the largest share; hover titles give the numbers."""
    if not labels:
        return ""
    width, height, pad = 28 * len(labels) + 40, 150, 20
    top = max(max(baseline), max(current), 1e-12)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img">']
    for i, (label, b, c) in enumerate(zip(labels, baseline, current, strict=True)):
        x = pad + 28 * i
        for offset, share, colour, name in (
            (0, b, BASELINE_COLOUR, "baseline"),
            (12, c, CURRENT_COLOUR, "current"),
        ):
            bar = height * share / top
            parts.append(
                f'<rect x="{x + offset}" y="{height - bar:.1f}" width="11" height="{bar:.1f}" fill="{colour}">'
                f"<title>{escape(label)} {name}: {share:.2%}</title></rect>"
            )
        parts.append(
            f'<text x="{x + 12}" y="{height + 12}" font-size="9" text-anchor="end" '
            f'transform="rotate(-35 {x + 12} {height + 12})">{escape(label[:14])}</text>'
        )
    parts.append(f'<line x1="{pad}" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#888"/></svg>')
    return "".join(parts)


def _row(feature: FeatureResult) -> str:
    body = feature.to_dict()
    css = "drift" if feature.drift else ("" if feature.status == "ok" else "warn")
    cells = [
        f'<td class="l">{escape(feature.name)}</td>',
        f'<td class="l">{escape(feature.kind)}</td>',
        f'<td class="l">{"DRIFT" if feature.drift else "no"}</td>',
        f'<td class="l">{escape(feature.status)}</td>',
        f'<td class="l">{escape(feature.method)}</td>',
        *(f"<td>{_fmt(body.get(key))}</td>" for key in STAT_COLUMNS),
        f"<td>{_fmt(body.get('p_value_adjusted'))}</td>",
        f"<td>{feature.n_baseline}</td><td>{feature.n_current}</td>",
        f'<td class="l">{escape(feature.reason)}</td>',
    ]
    return f'<tr class="{css}">{"".join(cells)}</tr>'


def render_html(
    baseline: DatasetProfile, current: DatasetProfile, result: DriftResult, title: str = "Drift report"
) -> str:
    verdict = "Drift detected" if result.drift_detected else "No drift detected"
    drifted = ", ".join(escape(n) for n in result.drifted) or "none"
    header = (
        f"<h1>{escape(title)}</h1><p><b>{verdict}</b>: {len(result.drifted)} of {len(result.scored)} scored "
        f"features drifted (share {result.drift_share:.2%}; drifted: {drifted}). Tests at alpha "
        f"{result.config.alpha} with {escape(result.config.correction)} correction across features; a feature "
        "drifts when its test rejects and its effect size reaches the threshold.</p>"
        f'<p class="legend"><span style="background:{BASELINE_COLOUR}"></span>baseline'
        f'<span style="background:{CURRENT_COLOUR}"></span>current</p>'
    )
    charts = []
    for name, feature in result.features.items():
        base, cur = baseline.features.get(name), current.features.get(name)
        if base is None or cur is None:
            continue
        svg = histogram_svg(*_bars(base, cur, result.config.psi_bins))
        mark = " — DRIFT" if feature.drift else ""
        charts.append(f'<div class="feature"><h3>{escape(name)}{mark}</h3>{svg}</div>')
    heads = [
        "feature",
        "kind",
        "drift",
        "status",
        "method",
        *STAT_COLUMNS,
        "p adjusted",
        "n baseline",
        "n current",
    ]
    table = (
        "<table><tr>"
        + "".join(f"<th>{h}</th>" for h in [*heads, "reason"])
        + "</tr>"
        + "".join(_row(f) for f in result.features.values())
        + "</table>"
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{header}<h2>Features</h2>{table}<h2>Distributions</h2>"
        f"{''.join(charts)}</body></html>"
    )
