"""Always-valid inference with the normal-mixture sequential probability ratio test (mSPRT).

For a difference estimate with variance V and a N(0, tau^2) mixture over the true effect,
the likelihood ratio against "no effect" is

    Lambda = sqrt(V / (V + tau^2)) * exp(theta^2 tau^2 / (2 V (V + tau^2)))

and ``1 / Lambda`` is a p-value valid at *any* stopping time once the running minimum is
taken across looks (Johari et al., "Always valid inference", 2017). Inverting the test gives
a confidence sequence; intersecting it with the previous looks' sequences keeps it valid
and never wider. Both running quantities live in ``SequentialState``, which the handler
persists between scheduled looks and the CLI reads and writes as JSON.

tau^2 is tuned so that the sequence is narrowest when the comparison reaches ``tuning_n``
units (the planned sample size), following Howard et al. (2021): with x = tau^2 / V the
squared half-width is proportional to (1 + 1/x)(2 log(1/alpha) + log(1 + x)), minimised
where x = 2 log(1/alpha) + log(1 + x).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from lambdas.common.errors import InputError

FloatArray = npt.NDArray[np.float64]

DEFAULT_TUNING_N = 5000.0


@functools.lru_cache(maxsize=64)
def optimal_variance_ratio(alpha: float) -> float:
    """tau^2 / V that minimises the confidence-sequence width at the tuning sample size."""
    c = 2 * math.log(1 / alpha)
    x = c
    for _ in range(50):
        x = c + math.log1p(x)
    return x


def mixture_variance(variance: Any, total_n: Any, tuning_n: float, alpha: float) -> Any:
    """tau^2 for a comparison whose estimate has ``variance`` after ``total_n`` units.

    ``variance * total_n`` estimates the per-unit variance, a constant of the experiment, so
    tau^2 is (up to estimation noise) the same at every look.
    """
    return optimal_variance_ratio(alpha) * np.asarray(variance) * np.asarray(total_n) / tuning_n


def log_likelihood_ratio(estimate: Any, variance: Any, tau_sq: Any) -> Any:
    v = np.asarray(variance, dtype=float)
    t = np.asarray(tau_sq, dtype=float)
    theta = np.asarray(estimate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 0.5 * np.log(v / (v + t)) + theta * theta * t / (2 * v * (v + t))
    # Zero variance: the estimate is exact, so any non-zero difference is conclusive.
    return np.where(v > 0, value, np.where(theta == 0, 0.0, np.inf))


def msprt_p_value(estimate: Any, variance: Any, tau_sq: Any) -> Any:
    """Per-look mSPRT p-value ``min(1, 1/Lambda)``; take the running minimum across looks."""
    return np.minimum(1.0, np.exp(-log_likelihood_ratio(estimate, variance, tau_sq)))


def confidence_radius(variance: Any, tau_sq: Any, alpha: float) -> Any:
    """Half-width of the (1 - alpha) confidence sequence at this look."""
    v = np.asarray(variance, dtype=float)
    t = np.asarray(tau_sq, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = np.sqrt(v * (v + t) / t * (2 * math.log(1 / alpha) + np.log((v + t) / v)))
    return np.where(v > 0, radius, 0.0)


def _scalar_p_value(estimate: float, variance: float, tau_sq: float) -> float:
    """``msprt_p_value`` for one look without numpy's per-call overhead (the engine's hot path)."""
    denominator = 2 * variance * (variance + tau_sq)
    # A variance so small that these products underflow is a degenerate (constant) metric.
    if variance <= 0 or tau_sq <= 0 or denominator == 0:
        return 1.0 if estimate == 0 else 0.0
    log_lr = 0.5 * math.log(variance / (variance + tau_sq)) + estimate * estimate * tau_sq / denominator
    return 1.0 if log_lr <= 0 else math.exp(-log_lr)


def _scalar_radius(variance: float, tau_sq: float, alpha: float) -> float:
    if variance <= 0 or tau_sq <= 0:
        return 0.0
    return math.sqrt(
        variance
        * (variance + tau_sq)
        / tau_sq
        * (2 * math.log(1 / alpha) + math.log((variance + tau_sq) / variance))
    )


@dataclass
class ComparisonState:
    """Running quantities of one metric x variant comparison."""

    looks: int = 0
    total_n: int = 0
    min_p_value: float = 1.0
    low: float = -math.inf
    high: float = math.inf
    relative_low: float = -math.inf
    relative_high: float = math.inf

    def to_dict(self) -> dict[str, Any]:
        # JSON has no infinity: a side the sequence has not bounded yet is written as null.
        return {
            "looks": self.looks,
            "total_n": self.total_n,
            "min_p_value": self.min_p_value,
            "low": _finite_or_none(self.low),
            "high": _finite_or_none(self.high),
            "relative_low": _finite_or_none(self.relative_low),
            "relative_high": _finite_or_none(self.relative_high),
        }


@dataclass(frozen=True)
class SequentialLook:
    """Always-valid results of one comparison at the current look."""

    p_value: float
    ci_absolute: tuple[float, float]
    ci_relative: tuple[float, float] | None


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass
class SequentialState:
    """Everything a later look needs to keep the earlier looks' guarantees (JSON-serialisable)."""

    tuning_n: float = DEFAULT_TUNING_N
    comparisons: dict[str, ComparisonState] = field(default_factory=dict)

    def observe(
        self,
        key: str,
        *,
        estimate: float,
        variance: float,
        relative: float | None,
        relative_variance: float | None,
        total_n: int,
        alpha: float,
    ) -> SequentialLook:
        """Fold one look into the running state and return the always-valid results."""
        state = self.comparisons.setdefault(key, ComparisonState())
        if total_n < state.total_n:
            raise InputError.single(
                f"state.comparisons.{key}.total_n",
                f"the new sample ({total_n} units) is smaller than at the previous look "
                f"({state.total_n}); the state belongs to another experiment or phase",
            )
        ratio = optimal_variance_ratio(alpha) * total_n / self.tuning_n
        p_value = _scalar_p_value(estimate, variance, ratio * variance)
        radius = _scalar_radius(variance, ratio * variance, alpha)
        state.looks += 1
        state.total_n = total_n
        state.min_p_value = min(state.min_p_value, p_value)
        state.low = max(state.low, estimate - radius)
        state.high = min(state.high, estimate + radius)
        ci_relative = None
        if relative is not None and relative_variance is not None:
            rel_radius = _scalar_radius(relative_variance, ratio * relative_variance, alpha)
            state.relative_low = max(state.relative_low, relative - rel_radius)
            state.relative_high = min(state.relative_high, relative + rel_radius)
            ci_relative = (state.relative_low, state.relative_high)
        return SequentialLook(state.min_p_value, (state.low, state.high), ci_relative)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tuning_n": self.tuning_n,
            "comparisons": {key: c.to_dict() for key, c in self.comparisons.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, default_tuning_n: float) -> SequentialState:
        if not data:
            return cls(tuning_n=default_tuning_n)
        if not isinstance(data, Mapping):
            raise InputError.single("state", "must be an object as written by a previous analysis")
        tuning_n = data.get("tuning_n", default_tuning_n)
        if not isinstance(tuning_n, int | float) or tuning_n <= 0:
            raise InputError.single("state.tuning_n", "must be a positive number")
        comparisons: dict[str, ComparisonState] = {}
        raw = data.get("comparisons", {})
        if not isinstance(raw, Mapping):
            raise InputError.single("state.comparisons", "must be an object")
        for key, values in raw.items():
            if not isinstance(values, Mapping):
                raise InputError.single(f"state.comparisons.{key}", "must be an object")
            defaults = ComparisonState()
            try:
                comparisons[key] = ComparisonState(
                    looks=int(values.get("looks", 0)),
                    total_n=int(values.get("total_n", 0)),
                    min_p_value=float(values.get("min_p_value", 1.0)),
                    low=_bound(values.get("low"), defaults.low),
                    high=_bound(values.get("high"), defaults.high),
                    relative_low=_bound(values.get("relative_low"), defaults.relative_low),
                    relative_high=_bound(values.get("relative_high"), defaults.relative_high),
                )
            except (TypeError, ValueError) as exc:
                raise InputError.single(f"state.comparisons.{key}", f"is malformed: {exc}") from exc
        return cls(tuning_n=float(tuning_n), comparisons=comparisons)


def _bound(value: Any, default: float) -> float:
    return default if value is None else float(value)
