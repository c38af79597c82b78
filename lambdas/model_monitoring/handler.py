"""Scheduled model performance check: captured predictions joined with ground-truth labels.

Entry point ``lambdas.model_monitoring.handler.handler`` (EventBridge schedule, ``time``).
Settings are environment variables; a function that several models share gets the same names
per model in its event instead (``{"monitor": {...}}``, see `lambdas.common.monitor_event`):

| variable | required | meaning |
|---|---|---|
| MODEL_NAME | yes | names metrics and results |
| DATA_URI | yes | `s3://bucket/prefix/` of the endpoint's data capture |
| LABELS_URI | yes | `s3://bucket/prefix/` of ground-truth JSON Lines (`yyyy/mm/dd/hh/` layout) |
| RESULTS_BUCKET | yes | where the result JSON goes |
| RESULTS_PREFIX | no | default `performance/<MODEL_NAME>` |
| WINDOW_HOURS | no | predictions of this many hours before the scheduled time (default 24) |
| LABEL_LAG_HOURS | no | labels may arrive this long after the window (default 48) |
| THRESHOLD | no | score at or above which a prediction is positive (default 0.5) |
| FEATURE_NAMES | no | feature order of positional captured inputs |

Metrics (namespace MLPlatform/ModelPerformance, dimension Model): Accuracy, Precision,
Recall, AUC (when defined), LabeledPredictions, LabelCoverage (share of predictions with a
label), PerformanceRunErrors (bad settings or input, and any other failure, which is raised).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdas.common.errors import InputError, Problem
from lambdas.common.monitor_event import count_failure, model_name_of, settings_for
from lambdas.drift import aws_io
from lambdas.drift.data_capture import read_capture_lines
from lambdas.drift.settings import parse_window_event, split_s3_uri
from lambdas.model_monitoring.ground_truth import read_label_lines
from lambdas.model_monitoring.performance import classification_performance, join_labels

NAMESPACE = "MLPlatform/ModelPerformance"
logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=NAMESPACE)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_name: str = Field(min_length=1)
    data_uri: str = Field(pattern=r"^s3://[^/]+/.*")
    labels_uri: str = Field(pattern=r"^s3://[^/]+/.*")
    results_bucket: str = Field(min_length=3)
    results_prefix: str = ""
    window_hours: int = Field(default=24, ge=1, le=24 * 31)
    label_lag_hours: int = Field(default=48, ge=0, le=24 * 31)
    threshold: float = Field(default=0.5, ge=0, le=1)
    feature_names: list[str] = Field(default_factory=list)

    @field_validator("feature_names", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @classmethod
    def variable_names(cls) -> list[str]:
        """The environment variables (and event settings) these settings are read from."""
        return [name.upper() for name in cls.model_fields]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, source: str = "environment") -> Settings:
        env = os.environ if environ is None else environ
        raw = {n: env[n.upper()] for n in cls.model_fields if n.upper() in env}
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = [Problem(".".join(str(p) for p in e["loc"]).upper(), e["msg"]) for e in exc.errors()]
            raise InputError(problems, source=source) from None


@dataclass(frozen=True)
class Clients:
    s3: Any

    @classmethod
    def from_boto3(cls) -> Clients:
        return cls(boto3.client("s3"))


def _label_keys(s3: Any, labels_uri: str, start: Any, end: Any) -> list[str]:
    bucket, prefix = split_s3_uri(labels_uri)
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    keys: list[str] = []
    for hour in aws_io.hour_prefixes(start, end):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + hour):
            keys += [o["Key"] for o in page.get("Contents", [])]
    return sorted(keys)


def process(event: Any, settings: Settings, clients: Clients, sink: Metrics = metrics) -> dict[str, Any]:
    start, end = parse_window_event(event).window(settings.window_hours)
    ids: list[str] = []
    scores: list[float | None] = []
    bad = 0
    for item in aws_io.window_objects(clients.s3, settings.data_uri, "data_capture", start, end):
        data = aws_io.read_bytes(clients.s3, item["bucket"], item["key"])
        batch = read_capture_lines(data.splitlines(), settings.feature_names, source=item["key"])
        ids += batch.inference_ids
        scores += batch.predictions
        bad += batch.bad_lines
    labels: dict[str, float] = {}
    labels_bucket, _ = split_s3_uri(settings.labels_uri)
    for key in _label_keys(
        clients.s3, settings.labels_uri, start, end + timedelta(hours=settings.label_lag_hours)
    ):
        read = read_label_lines(aws_io.read_bytes(clients.s3, labels_bucket, key).splitlines(), source=key)
        labels.update(read.by_id)
        bad += read.bad_lines
    joined = join_labels(ids, scores, labels)
    performance = classification_performance(joined.scores, joined.labels, settings.threshold)
    coverage = joined.labels.size / len(ids) if ids else 0.0
    body = {
        "model": settings.model_name,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "threshold": settings.threshold,
        "predictions": len(ids),
        "label_coverage": coverage,
        "predictions_without_label": joined.predictions_without_label,
        "labels_without_prediction": joined.labels_without_prediction,
        "bad_records": bad,
        **performance.to_dict(),
    }
    prefix = (settings.results_prefix or f"performance/{settings.model_name}").strip("/")
    uri = aws_io.put_json(
        clients.s3, settings.results_bucket, f"{prefix}/windows/{end:%Y-%m-%dT%H}/result.json", body
    )
    sink.add_dimension(name="Model", value=settings.model_name)
    sink.add_metric(name="LabeledPredictions", unit=MetricUnit.Count, value=performance.n)
    sink.add_metric(name="LabelCoverage", unit=MetricUnit.NoUnit, value=coverage)
    for name in ("accuracy", "precision", "recall", "auc"):
        value = body[name]
        if value is not None:
            sink.add_metric(
                name=name.upper() if name == "auc" else name.capitalize(), unit=MetricUnit.NoUnit, value=value
            )
    return {**body, "result": uri}


_state: dict[str, Any] = {}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A shared function serves many models: every log line of the run names its model.
    logger.append_keys(model=model_name_of(event))
    try:
        if "clients" not in _state:
            _state["clients"] = Clients.from_boto3()
        settings = settings_for(event, Settings.from_env, _state, Settings.variable_names())
        return {"status": "ok", **process(event, settings, _state["clients"])}
    except InputError as exc:
        logger.error("performance run failed", extra={"problems": exc.lines()})
        count_failure(metrics, event, "PerformanceRunErrors", MetricUnit.Count)
        return {"status": "error", "problems": exc.lines()}
    except Exception:
        count_failure(metrics, event, "PerformanceRunErrors", MetricUnit.Count)
        raise
