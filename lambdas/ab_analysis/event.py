"""The scheduled analysis event and the function's settings, validated with pydantic.

The per-experiment EventBridge rule sends ``{"time": <scheduled time>, "experiment": {...}}``:
the experiment's definition travels in the event (one rule per experiment), while the
resources it reads and writes come from environment variables set by the construct. A
function shared by a stack's experiments also gets where each experiment's data lives
(`EVENT_SETTINGS`) in the event, under ``"monitor"``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lambdas.common.errors import InputError, Problem
from lambdas.common.monitor_event import MONITOR_KEY


class MetricDefinition(BaseModel):
    """A metric whose outcome summaries are read from S3 (see ``outcomes``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    type: Literal["mean", "proportion", "ratio"]
    guardrail: bool = False
    margin: float = Field(default=0.0, ge=0)
    margin_type: Literal["relative", "absolute"] = "relative"
    higher_is_better: bool = True
    primary: bool = False
    mde: float | None = Field(default=None, gt=0)


class ExperimentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    experiment_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")
    endpoint_name: str = Field(min_length=1)
    control: str = Field(min_length=1)
    start_time: datetime
    metrics: list[MetricDefinition] = Field(default_factory=list)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    # Scheduled looks are repeated looks: always-valid inference is the safe default.
    sequential: bool = True
    correction: Literal["holm", "bh", "none"] = "holm"
    planned_sample: int | None = Field(default=None, ge=2)
    power: float = Field(default=0.8, gt=0, lt=1)
    ramp: list[float] = Field(default_factory=lambda: [10.0, 50.0, 100.0], min_length=1)
    auto_shift: bool = False
    cadence_minutes: int = Field(default=60, ge=5, le=1440)
    endpoint_guardrails: bool = True
    latency_margin: float = Field(default=0.10, ge=0)
    error_rate_margin: float = Field(default=0.005, ge=0)

    @field_validator("start_time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, value: list[float]) -> list[float]:
        if any(not 0 < step <= 100 for step in value):
            raise ValueError("every ramp step is a percentage in (0, 100]")
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("ramp steps must increase")
        if value[-1] != 100:
            raise ValueError("the last ramp step must be 100 (full rollout)")
        return value

    @model_validator(mode="after")
    def _decision_metric(self) -> ExperimentConfig:
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metric names must be unique")
        if not any(not m.guardrail for m in self.metrics):
            raise ValueError("needs at least one metric that is not a guardrail (the decision metric)")
        return self


class AnalysisEvent(BaseModel):
    time: datetime
    experiment: ExperimentConfig

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def _problems(error: ValidationError) -> list[Problem]:
    return [Problem(".".join(str(part) for part in e["loc"]), e["msg"]) for e in error.errors()]


def parse_event(event: Any) -> AnalysisEvent:
    try:
        return AnalysisEvent.model_validate(event)
    except ValidationError as exc:
        raise InputError(_problems(exc), source="event") from exc


#: Settings a shared analysis function takes from each event (``"monitor"``): where the
#: experiment's data lives. The decisions table and the endpoints it may shift stay the
#: environment's, so an event cannot widen what the function acts on.
EVENT_SETTINGS = ("RESULTS_BUCKET", "RESULTS_PREFIX", "OUTCOMES_BUCKET", "OUTCOMES_PREFIX")
_NO_ENDPOINT = "is required: the endpoint this function may analyse (or ENDPOINT_NAMES, comma-separated)"
_ENV_NAMES = {
    "decisions_table": "DECISIONS_TABLE",
    "results_bucket": "RESULTS_BUCKET",
    "outcomes_bucket": "OUTCOMES_BUCKET",
    "results_prefix": "RESULTS_PREFIX",
    "outcomes_prefix": "OUTCOMES_PREFIX",
    "endpoint_name": "ENDPOINT_NAME",
    "endpoint_names": "ENDPOINT_NAMES",
}


class Settings(BaseModel):
    """Environment variables, read once per cold start; a shared function's events set the
    `EVENT_SETTINGS` (see `from_event`)."""

    decisions_table: str = Field(min_length=1)
    results_bucket: str = Field(min_length=1)
    outcomes_bucket: str = Field(min_length=1)
    results_prefix: str = "ab-results/"
    outcomes_prefix: str = "ab-outcomes/"
    # The endpoints this function's role may shift (ENDPOINT_NAME, or ENDPOINT_NAMES when the
    # function serves several experiments); events naming another are refused.
    endpoint_name: str = ""
    endpoint_names: list[str] = Field(default_factory=list)

    @field_validator("endpoint_names", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _some_endpoint(self) -> Settings:
        if not self.allowed_endpoints:
            raise ValueError(
                "name the endpoint(s) this function may analyse: ENDPOINT_NAME or ENDPOINT_NAMES"
            )
        return self

    @property
    def allowed_endpoints(self) -> list[str]:
        return [*([self.endpoint_name] if self.endpoint_name else []), *self.endpoint_names]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, source: str = "environment") -> Settings:
        env = os.environ if environ is None else environ
        values = {field: env[var] for field, var in _ENV_NAMES.items() if var in env}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = [
                # The endpoint check is the model's own (no field): it is about ENDPOINT_NAME(S).
                Problem(_ENV_NAMES[str(e["loc"][0])] if e["loc"] else "ENDPOINT_NAME", e["msg"])
                for e in exc.errors()
            ]
            if not any(p.field == "ENDPOINT_NAME" for p in problems) and not (
                env.get("ENDPOINT_NAME") or env.get("ENDPOINT_NAMES", "").strip(", ")
            ):
                problems.append(Problem("ENDPOINT_NAME", _NO_ENDPOINT))
            raise InputError(problems, source=source) from exc

    @classmethod
    def from_event(cls, overrides: Mapping[str, str], environ: Mapping[str, str] | None = None) -> Settings:
        """A shared function's settings: its environment with an event's `EVENT_SETTINGS` over it
        (already checked to be strings); the event may set nothing else."""
        refused = [
            Problem(f"{MONITOR_KEY}.{name}", "is the function's own setting and cannot come from an event")
            for name in overrides
            if name not in EVENT_SETTINGS
        ]
        if refused:
            raise InputError(refused, source="event")
        env = os.environ if environ is None else environ
        return cls.from_env({**env, **overrides}, source=f"event.{MONITOR_KEY}")
