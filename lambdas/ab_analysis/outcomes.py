"""Outcome summaries (JSON Lines in S3) folded into per-variant sums for the engine.

Format: one JSON object per line, each summarising a *disjoint* set of randomisation units
of one variant for one metric over one period. Sums are additive, so an upstream job can
write a line per unit, per batch or per hour and the analysis adds them up:

    {"metric": "revenue", "variant": "B", "period_end": "2026-05-01T13:00:00Z",
     "n": 120, "sum": 345.2, "sum_sq": 2011.3,
     "covariate": {"sum": 300.1, "sum_sq": 1500.2, "sum_product": 1720.4}}

Mean metrics carry ``n, sum, sum_sq`` (optional ``covariate``), proportion metrics
``n, successes`` (optional ``covariate``), ratio metrics ``n, numerator_sum,
numerator_sum_sq, denominator_sum, denominator_sum_sq, sum_product``. ``period_end``
(ISO 8601, UTC) places the line in time: a look at window W uses the lines with
``phase_start < period_end <= W``, so re-running a window reads the same data even when
later files have arrived. Malformed lines are skipped and reported, never guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ADDITIVE_FIELDS = (
    "n",
    "sum",
    "sum_sq",
    "successes",
    "numerator_sum",
    "numerator_sum_sq",
    "denominator_sum",
    "denominator_sum_sq",
    "sum_product",
)
COVARIATE_FIELDS = ("sum", "sum_sq", "sum_product")
MAX_REPORTED_PROBLEMS = 20


def parse_time(value: str) -> datetime:
    """ISO 8601 with a trailing Z or an offset; naive times are taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class OutcomeTotals:
    """Per metric and variant, the summed statistics; plus the lines that were skipped and why."""

    sums: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    lines_used: int = 0
    lines_skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def _skip(self, where: str, reason: str) -> None:
        self.lines_skipped += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(f"{where}: {reason}")

    def add_lines(
        self,
        lines: Iterable[str],
        *,
        source: str,
        phase_start: datetime,
        window_end: datetime,
        metrics: set[str],
    ) -> None:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{source} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                self._skip(where, f"not JSON ({exc.msg})")
                continue
            if not isinstance(record, Mapping):
                self._skip(where, "not a JSON object")
                continue
            self._add_record(record, where, phase_start, window_end, metrics)

    def _add_record(
        self,
        record: Mapping[str, Any],
        where: str,
        phase_start: datetime,
        window_end: datetime,
        metrics: set[str],
    ) -> None:
        metric, variant, period_end = record.get("metric"), record.get("variant"), record.get("period_end")
        if not isinstance(metric, str) or not isinstance(variant, str) or not isinstance(period_end, str):
            self._skip(where, "needs string fields metric, variant and period_end")
            return
        if metric not in metrics:
            return
        try:
            at = parse_time(period_end)
        except ValueError:
            self._skip(where, f"period_end {period_end!r} is not an ISO 8601 time")
            return
        if not phase_start < at <= window_end:
            return
        values: dict[str, float] = {}
        for name in ADDITIVE_FIELDS:
            if name in record:
                value = record[name]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    self._skip(where, f"{name} must be a number, got {value!r}")
                    return
                values[name] = value
        if "n" not in values:
            self._skip(where, "needs n, the number of units it summarises")
            return
        covariate = record.get("covariate")
        if covariate is not None and (
            not isinstance(covariate, Mapping)
            or any(
                isinstance(covariate.get(k), bool) or not isinstance(covariate.get(k), int | float)
                for k in COVARIATE_FIELDS
            )
        ):
            self._skip(where, "covariate needs numbers sum, sum_sq and sum_product")
            return
        target = self.sums.setdefault(metric, {}).setdefault(variant, {})
        for name, value in values.items():
            target[name] = target.get(name, 0) + value
        if covariate is not None:
            cov = target.setdefault("covariate", {})
            for name in COVARIATE_FIELDS:
                cov[name] = cov.get(name, 0) + covariate[name]
        self.lines_used += 1
