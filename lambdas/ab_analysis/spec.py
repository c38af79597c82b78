"""The analysis input: parsed from plain JSON-like data and validated field by field.

The same structure is what users write by hand for ``mlplatform ab --input`` and what the
handler assembles from S3 and CloudWatch, so every problem names the metric, the variant
and the field (``metrics.revenue.variants.B.sum_sq``) and no analysis runs on bad input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from lambdas.ab_analysis.corrections import Correction
from lambdas.ab_analysis.summaries import (
    CovariateSums,
    MeanSums,
    ProportionSums,
    RatioSums,
    VariantSums,
)
from lambdas.common.errors import InputError, Problem

WEIGHT_TOLERANCE = 1e-6


class MetricType(StrEnum):
    MEAN = "mean"
    PROPORTION = "proportion"
    RATIO = "ratio"


class MarginType(StrEnum):
    RELATIVE = "relative"
    ABSOLUTE = "absolute"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: MetricType
    variants: dict[str, VariantSums]
    guardrail: bool = False
    margin: float = 0.0
    margin_type: MarginType = MarginType.RELATIVE
    higher_is_better: bool = True
    primary: bool = False
    mde: float | None = None

    @property
    def uses_cuped(self) -> bool:
        return any(getattr(s, "covariate", None) is not None for s in self.variants.values())


@dataclass(frozen=True)
class ExperimentSpec:
    control: str
    weights: dict[str, float]
    metrics: list[MetricSpec]
    alpha: float = 0.05
    sequential: bool = False
    correction: Correction = Correction.HOLM
    power: float = 0.8
    planned_sample: int | None = None
    assignments: dict[str, int] | None = None
    state: Mapping[str, Any] | None = field(default=None)

    @property
    def treatments(self) -> list[str]:
        return [v for v in self.weights if v != self.control]

    @property
    def primary_metric(self) -> MetricSpec | None:
        flagged = [m for m in self.metrics if m.primary]
        if flagged:
            return flagged[0]
        return next((m for m in self.metrics if not m.guardrail), None)

    def unit_counts(self) -> dict[str, int]:
        """Units per variant for the sample-ratio check: explicit assignments, else the primary metric's n."""
        if self.assignments is not None:
            return dict(self.assignments)
        metric = self.primary_metric or self.metrics[0]
        return {v: metric.variants[v].n for v in self.weights}


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class _Reader:
    """Collects every problem of an input before failing, so users fix them in one pass."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason))

    def number(self, data: Mapping[str, Any], key: str, where: str, *, default: float | None = None) -> float:
        value = data.get(key, default)
        if value is None:
            self.fail(_path(where, key), "is required")
            return math.nan
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.fail(_path(where, key), f"must be a finite number, got {value!r}")
            return math.nan
        return float(value)

    def count(self, data: Mapping[str, Any], key: str, where: str, *, minimum: int = 1) -> int:
        value = data.get(key)
        if value is None:
            self.fail(_path(where, key), "is required")
            return 0
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            self.fail(_path(where, key), f"must be a whole number, got {value!r}")
            return 0
        if value < minimum:
            self.fail(_path(where, key), f"must be at least {minimum}, got {int(value)}")
            return 0
        return int(value)

    def flag(self, data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(_path(where, key), f"must be true or false, got {value!r}")
            return default
        return value

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, f"must be an object, got {type(value).__name__}")
            return {}
        return value

    def enum(self, data: Mapping[str, Any], key: str, where: str, kind: type[Enum], default: Enum) -> Any:
        value = data.get(key, default.value)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(repr(e.value) for e in kind)
            self.fail(_path(where, key), f"unknown value {value!r}; use one of {allowed}")
            return default


def _covariate(reader: _Reader, raw: Any, where: str) -> CovariateSums | None:
    if raw is None:
        return None
    data = reader.mapping(raw, where)
    return CovariateSums(
        sum=reader.number(data, "sum", where),
        sum_sq=reader.number(data, "sum_sq", where),
        sum_product=reader.number(data, "sum_product", where),
    )


def _variant_sums(reader: _Reader, kind: MetricType, raw: Any, where: str) -> VariantSums | None:
    data = reader.mapping(raw, where)
    before = len(reader.problems)
    if kind is MetricType.PROPORTION:
        n = reader.count(data, "n", where)
        successes = reader.number(data, "successes", where)
        if n and math.isfinite(successes) and not 0 <= successes <= n:
            reader.fail(f"{where}.successes", f"must be between 0 and n={n}, got {successes!r}")
        covariate = _covariate(reader, data.get("covariate"), f"{where}.covariate")
        if covariate is not None and n == 1:
            reader.fail(f"{where}.n", "must be at least 2 to estimate the covariate adjustment (CUPED)")
        result: VariantSums = ProportionSums(n, successes, covariate)
    elif kind is MetricType.MEAN:
        n = reader.count(data, "n", where, minimum=2)
        result = MeanSums(
            n,
            reader.number(data, "sum", where),
            reader.number(data, "sum_sq", where),
            _covariate(reader, data.get("covariate"), f"{where}.covariate"),
        )
    else:
        n = reader.count(data, "n", where, minimum=2)
        if "covariate" in data:
            reader.fail(f"{where}.covariate", "CUPED is supported for mean and proportion metrics only")
        result = RatioSums(
            n,
            reader.number(data, "numerator_sum", where),
            reader.number(data, "numerator_sum_sq", where),
            reader.number(data, "denominator_sum", where),
            reader.number(data, "denominator_sum_sq", where),
            reader.number(data, "sum_product", where),
        )
    return result if len(reader.problems) == before else None


def _metric(reader: _Reader, raw: Any, index: int, variants: list[str]) -> MetricSpec | None:
    data = reader.mapping(raw, f"metrics[{index}]")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        reader.fail(f"metrics[{index}].name", "is required and must be a non-empty string")
        return None
    where = f"metrics.{name}"
    if "type" not in data:
        reader.fail(f"{where}.type", "is required: 'mean', 'proportion' or 'ratio'")
        return None
    kind = reader.enum(data, "type", where, MetricType, MetricType.MEAN)
    if data.get("type") != kind.value:
        return None
    raw_variants = reader.mapping(data.get("variants"), f"{where}.variants")
    sums: dict[str, VariantSums] = {}
    for variant in variants:
        if variant not in raw_variants:
            reader.fail(f"{where}.variants.{variant}", "is missing: every variant in weights needs data")
            continue
        parsed = _variant_sums(reader, kind, raw_variants[variant], f"{where}.variants.{variant}")
        if parsed is not None:
            sums[variant] = parsed
    for extra in sorted(set(raw_variants) - set(variants)):
        reader.fail(f"{where}.variants.{extra}", "is not in weights; add its weight or remove its data")
    margin = reader.number(data, "margin", where, default=0.0)
    if margin < 0:
        reader.fail(f"{where}.margin", f"must be >= 0 (the tolerated degradation), got {margin!r}")
    mde = data.get("mde")
    if mde is not None and (isinstance(mde, bool) or not isinstance(mde, int | float) or mde <= 0):
        reader.fail(f"{where}.mde", f"must be a positive relative effect such as 0.02, got {mde!r}")
        mde = None
    if len(sums) != len(variants):
        return None
    return MetricSpec(
        name=name,
        type=kind,
        variants=sums,
        guardrail=reader.flag(data, "guardrail", where, False),
        margin=margin,
        margin_type=reader.enum(data, "margin_type", where, MarginType, MarginType.RELATIVE),
        higher_is_better=reader.flag(data, "higher_is_better", where, True),
        primary=reader.flag(data, "primary", where, False),
        mde=float(mde) if mde is not None else None,
    )


def _weights(reader: _Reader, raw: Any) -> dict[str, float]:
    data = reader.mapping(raw, "weights")
    weights: dict[str, float] = {}
    for variant, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            reader.fail(f"weights.{variant}", f"must be a number above 0, got {value!r}")
            continue
        weights[str(variant)] = float(value)
    if len(data) < 2:
        reader.fail("weights", "needs at least two variants (control and one treatment)")
    elif len(weights) == len(data) and abs(sum(weights.values()) - 1.0) > WEIGHT_TOLERANCE:
        reader.fail("weights", f"must sum to 1, they sum to {sum(weights.values())!r}")
    return weights


def parse_experiment(data: Any) -> ExperimentSpec:
    """Validate a JSON-like input; raise ``InputError`` listing every problem found."""
    reader = _Reader()
    top = reader.mapping(data, "input")
    if reader.problems:
        raise InputError(reader.problems)
    weights = _weights(reader, top.get("weights"))
    control = top.get("control")
    if not isinstance(control, str):
        reader.fail("control", "is required: the name of the control variant")
    elif weights and control not in weights:
        reader.fail("control", f"{control!r} has no entry in weights")
    alpha = reader.number(top, "alpha", "", default=0.05)
    if math.isfinite(alpha) and not 0 < alpha < 0.5:
        reader.fail("alpha", f"must be between 0 and 0.5, got {alpha!r}")
    power = reader.number(top, "power", "", default=0.8)
    if math.isfinite(power) and not 0 < power < 1:
        reader.fail("power", f"must be between 0 and 1, got {power!r}")
    planned = top.get("planned_sample")
    if planned is not None:
        planned = reader.count(top, "planned_sample", "", minimum=2)
    assignments: dict[str, int] | None = None
    if top.get("assignments") is not None:
        raw_assign = reader.mapping(top["assignments"], "assignments")
        assignments = {}
        for variant in weights:
            if variant not in raw_assign:
                reader.fail(f"assignments.{variant}", "is missing: every variant in weights needs a count")
            else:
                assignments[variant] = reader.count(raw_assign, variant, "assignments")
    raw_metrics = top.get("metrics")
    metrics: list[MetricSpec] = []
    if not isinstance(raw_metrics, list) or not raw_metrics:
        reader.fail("metrics", "must be a non-empty list")
    else:
        seen: set[str] = set()
        for index, raw in enumerate(raw_metrics):
            metric = _metric(reader, raw, index, list(weights))
            if metric is None:
                continue
            if metric.name in seen:
                reader.fail(f"metrics.{metric.name}", "appears twice; metric names must be unique")
            seen.add(metric.name)
            metrics.append(metric)
    if metrics and not any(not m.guardrail for m in metrics):
        reader.fail("metrics", "needs at least one metric that is not a guardrail (the decision metric)")
    state = top.get("state")
    if state is not None and not isinstance(state, Mapping):
        reader.fail("state", "must be the object written by a previous sequential analysis")
    sequential = reader.flag(top, "sequential", "", False)
    correction = reader.enum(top, "correction", "", Correction, Correction.HOLM)
    if reader.problems:
        raise InputError(reader.problems)
    return ExperimentSpec(
        control=str(control),
        weights=weights,
        metrics=metrics,
        alpha=alpha,
        sequential=sequential,
        correction=correction,
        power=power,
        planned_sample=planned,
        assignments=assignments,
        state=state,
    )
