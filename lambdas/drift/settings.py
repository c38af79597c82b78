"""Settings of the drift functions and their events.

Settings are environment variables, parsed once per cold start, set by
`constructs_lib.drift_monitor.DriftMonitor`; a function that a stack's monitors share gets
the same names per model in its event instead (``{"monitor": {...}}``, see
`lambdas.common.monitor_event`):

| variable | required | meaning |
|---|---|---|
| MODEL_NAME | yes | model whose inputs are monitored; names metrics and the drift event |
| BASELINE_URI | yes | `s3://bucket/key` of the baseline profile JSON |
| DATA_URI | yes | `s3://bucket/prefix/` of the window's data: SageMaker data capture (`<prefix>/<variant>/yyyy/mm/dd/hh/*.jsonl`) or offline-store Parquet partitions (`<prefix>/dt=yyyy-mm-dd/...`) |
| DATA_FORMAT | no | `data_capture` (default) or `parquet` |
| RESULTS_BUCKET | yes | where results, reports and run files go |
| RESULTS_PREFIX | no | key prefix inside RESULTS_BUCKET (default `drift/<MODEL_NAME>`) |
| EVENT_BUS_NAME | no | bus the drift event goes to (default `default`) |
| WINDOW_HOURS | no | length of the window ending at the scheduled time (default 24) |
| FEATURE_NAMES | no | comma-separated feature order of positional (CSV) captured inputs |
| PREDICTION_FEATURE | no | baseline feature that holds the model's prediction (default `prediction`) |
| DRIFT_CONFIG | no | JSON of the decision rule: alpha, correction, min_rows, min_drift_share, numeric/categorical rules, feature_rules |
| DRIFT_EVENT_COOLDOWN_HOURS | no | after a drift event, windows ending within this many hours record drift but put no new event (default 24), so an hourly check of a lasting shift starts one retraining, not one per hour |
| MAX_OBJECTS | no | most objects the single-process function reads (default 500); more is an error telling you to use the distributed run |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdas.common.errors import InputError, Problem

if TYPE_CHECKING:
    from lambdas.drift.decision import DriftConfig


class RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effect: str
    threshold: float = Field(ge=0)


class DriftConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alpha: float = 0.05
    correction: Literal["holm", "bh", "none"] = "holm"
    min_rows: int = 20
    min_drift_share: float = 0.0
    numeric_rule: RuleModel = RuleModel(effect="wasserstein", threshold=0.1)
    categorical_rule: RuleModel = RuleModel(effect="linf", threshold=0.05)
    feature_rules: dict[str, RuleModel] = Field(default_factory=dict)

    def to_config(self) -> DriftConfig:
        # imported here so that profiling workers (numpy only, no scipy) can read settings
        from lambdas.drift.decision import DriftConfig, EffectRule

        return DriftConfig(
            alpha=self.alpha,
            correction=self.correction,
            min_rows=self.min_rows,
            min_drift_share=self.min_drift_share,
            numeric_rule=EffectRule(self.numeric_rule.effect, self.numeric_rule.threshold),
            categorical_rule=EffectRule(self.categorical_rule.effect, self.categorical_rule.threshold),
            feature_rules={k: EffectRule(v.effect, v.threshold) for k, v in self.feature_rules.items()},
        )


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_name: str = Field(min_length=1)
    baseline_uri: str = Field(pattern=r"^s3://[^/]+/.+")
    data_uri: str = Field(pattern=r"^s3://[^/]+/.*")
    data_format: Literal["data_capture", "parquet"] = "data_capture"
    results_bucket: str = Field(min_length=3)
    results_prefix: str = ""
    event_bus_name: str = "default"
    window_hours: int = Field(default=24, ge=1, le=24 * 31)
    feature_names: list[str] = Field(default_factory=list)
    prediction_feature: str = "prediction"
    drift_config: DriftConfigModel = DriftConfigModel()
    max_objects: int = Field(default=500, ge=1)
    drift_event_cooldown_hours: int = Field(default=24, ge=0, le=24 * 31)

    @field_validator("feature_names", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @property
    def prefix(self) -> str:
        return (self.results_prefix or f"drift/{self.model_name}").strip("/")

    @classmethod
    def variable_names(cls) -> list[str]:
        """The environment variables (and event settings) these settings are read from."""
        return [name.upper() for name in cls.model_fields]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, source: str = "environment") -> Settings:
        env = os.environ if environ is None else environ
        names = cls.model_fields
        raw: dict[str, Any] = {n: env[n.upper()] for n in names if n.upper() in env}
        try:
            if "drift_config" in raw:
                raw["drift_config"] = DriftConfigModel.model_validate_json(raw["drift_config"])
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = [Problem(".".join(str(p) for p in e["loc"]).upper(), e["msg"]) for e in exc.errors()]
            raise InputError(problems, source=source) from None


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class WindowEvent(BaseModel):
    """EventBridge scheduled event (``time``), or a manual run naming ``window_end``."""

    model_config = ConfigDict(extra="ignore")
    time: datetime | None = None
    window_end: datetime | None = None
    window_hours: int | None = Field(default=None, ge=1, le=24 * 31)

    def window(self, default_hours: int) -> tuple[datetime, datetime]:
        """[start, end) of the window, the end floored to the hour so reruns share one window."""
        end = self.window_end or self.time or datetime.now(UTC)
        end = (end if end.tzinfo else end.replace(tzinfo=UTC)).astimezone(UTC)
        end = end.replace(minute=0, second=0, microsecond=0)
        return end - timedelta(hours=self.window_hours or default_hours), end


def parse_window_event(event: Any) -> WindowEvent:
    try:
        return WindowEvent.model_validate(event if isinstance(event, Mapping) else {})
    except ValidationError as exc:
        problems = [Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InputError(problems, source="event") from None
