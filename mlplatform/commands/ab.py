"""`mlplatform ab`: analyse an A/B test from a JSON file of per-variant summary statistics.

Runs exactly the engine of the scheduled analysis function, so a result can be reproduced
(or a what-if explored) on a laptop. The input format is documented in docs/ab-testing.md.
Exit codes: 0 analysed, 2 bad input (each problem printed as one line naming its field).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lambdas.ab_analysis.engine import analyse
from lambdas.ab_analysis.report import render_html
from lambdas.ab_analysis.results import AnalysisResult
from lambdas.common.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ab",
        help="analyse an A/B test from per-variant summary statistics",
        description="Analyse an A/B test: sample-ratio check, lifts with intervals, corrected p-values, "
        "chance to win, guardrails and a decision.",
    )
    parser.add_argument("--input", required=True, type=Path, help="JSON file of per-variant statistics")
    parser.add_argument("--json", type=Path, help="write the JSON result here ('-' for standard output)")
    parser.add_argument("--html", type=Path, help="write a self-contained HTML report here")
    parser.set_defaults(func=run)


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError.single("--input", f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.single(
            "--input", f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc


def summary_lines(result: AnalysisResult) -> list[str]:
    """A short human summary: decision, SRM, then one line per comparison."""
    lines = [
        f"decision: {result.decision.action.value}"
        + (f" {result.decision.variant}" if result.decision.variant else ""),
        f"  {result.decision.reason}",
        f"srm: p={result.srm.p_value:.3g}" + (" MISMATCH" if result.srm.mismatch else " ok"),
    ]
    for c in result.comparisons():
        relative = "n/a" if c.lift_relative is None else f"{c.lift_relative:+.2%}"
        guard = f" guardrail={c.guardrail.status.value}" if c.guardrail else ""
        lines.append(
            f"{c.metric} {c.variant} vs {result.control}: lift {relative} "
            f"p={c.p_value:.3g} adj={c.p_value_adjusted:.3g} win={c.chance_to_win:.1%}{guard}"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    result = analyse(_load(args.input))
    payload = result.to_dict()
    text = json.dumps(payload, indent=2, allow_nan=False)
    if args.json is not None and str(args.json) == "-":
        print(text)
    else:
        print("\n".join(summary_lines(result)))
        if args.json is not None:
            args.json.write_text(text + "\n", encoding="utf-8")
    if args.html is not None:
        args.html.write_text(render_html(payload, title=f"A/B test: {args.input.stem}"), encoding="utf-8")
    sys.stdout.flush()
    return 0
