"""Score a window's merged profile, then record it: JSON + HTML in S3, EMF metrics, drift event.

Metrics (namespace MLPlatform/Drift):
- per model (dimension Model): DriftDetected (0/1), DriftShare, FeaturesDrifted,
  FeaturesUnscored, RowsProfiled, BadRecords;
- per feature (dimensions Model, Feature): FeatureDrift (0/1), FeatureEffect (the value of
  the feature's effect measure), FeaturePValue (adjusted).

The drift event is put once per window: a rerun of a window whose result already holds an
event id does not start a second retraining. After an event, later windows ending within
DRIFT_EVENT_COOLDOWN_HOURS record their drift but put no event (`drift_event_suppressed_by`
names the event that covers them): the retraining it started is already on its way.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from lambdas.common.errors import Problem
from lambdas.drift import aws_io
from lambdas.drift.dataset_profile import DatasetProfile
from lambdas.drift.decision import DriftResult, score
from lambdas.drift.report_html import render_html
from lambdas.drift.run import window_key
from lambdas.drift.settings import Settings

NAMESPACE = "MLPlatform/Drift"
LAST_EVENT = "last_drift_event.json"


def emit_metrics(metrics: Metrics, model: str, result: DriftResult, rows: int, bad_lines: int) -> None:
    metrics.add_dimension(name="Model", value=model)
    metrics.add_metric(name="DriftDetected", unit=MetricUnit.Count, value=int(result.drift_detected))
    metrics.add_metric(name="DriftShare", unit=MetricUnit.NoUnit, value=result.drift_share)
    metrics.add_metric(name="FeaturesDrifted", unit=MetricUnit.Count, value=len(result.drifted))
    metrics.add_metric(
        name="FeaturesUnscored", unit=MetricUnit.Count, value=len(result.features) - len(result.scored)
    )
    metrics.add_metric(name="RowsProfiled", unit=MetricUnit.Count, value=rows)
    metrics.add_metric(name="BadRecords", unit=MetricUnit.Count, value=bad_lines)
    for feature in result.scored:
        values = {
            "FeatureDrift": float(feature.drift),
            "FeatureEffect": feature.effect_value,
            "FeaturePValue": feature.p_value_adjusted,
        }
        for name, value in values.items():
            if value != value:  # NaN is no metric value
                continue
            with single_metric(name=name, unit=MetricUnit.NoUnit, value=value, namespace=NAMESPACE) as metric:
                metric.add_dimension(name="Model", value=model)
                metric.add_dimension(name="Feature", value=feature.name)


def _read_json(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    try:
        body = json.loads(aws_io.read_bytes(s3, bucket, key))
    except s3.exceptions.NoSuchKey:
        return {}
    return body if isinstance(body, dict) else {}


def _covering_event(s3: Any, settings: Settings, end: datetime) -> str | None:
    """The id of an event put for an earlier window less than the cooldown ago, if any."""
    last = _read_json(s3, settings.results_bucket, f"{settings.prefix}/{LAST_EVENT}")
    if not last.get("event_id") or not last.get("window_end"):
        return None
    age = end - datetime.fromisoformat(last["window_end"])
    if timedelta(0) < age < timedelta(hours=settings.drift_event_cooldown_hours):
        return str(last["event_id"])
    return None


def finish(
    *,
    s3: Any,
    events: Any,
    metrics: Metrics,
    settings: Settings,
    baseline: DatasetProfile,
    current: DatasetProfile,
    window: tuple[datetime, datetime],
    objects: int,
    bad_lines: int,
    problems: list[Problem],
) -> dict[str, Any]:
    """Score and record one window; returns the summary the handler returns."""
    start, end = window
    result = score(baseline, current, settings.drift_config.to_config())
    bucket = settings.results_bucket
    result_key, report_key = (
        window_key(settings, end, "result.json"),
        window_key(settings, end, "report.html"),
    )
    body = {
        "model": settings.model_name,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "objects": objects,
        "rows": current.rows,
        "bad_records": bad_lines,
        "problems": [str(p) for p in problems[:50]],
        **result.to_dict(),
    }
    previous = _read_json(s3, bucket, result_key).get("drift_event_id")
    event_id = str(previous) if previous else None
    suppressed_by = None
    result_uri = f"s3://{bucket}/{result_key}"
    if result.drift_detected and event_id is None:
        suppressed_by = _covering_event(s3, settings, end)
    if result.drift_detected and event_id is None and suppressed_by is None:
        event_id = aws_io.publish_drift_event(
            events,
            settings.event_bus_name,
            {
                "model": settings.model_name,
                "window_end": end.isoformat(),
                "drift_share": result.drift_share,
                "drifted_features": result.drifted,
                "result": result_uri,
            },
        )
        aws_io.put_json(
            s3,
            bucket,
            f"{settings.prefix}/{LAST_EVENT}",
            {"event_id": event_id, "window_end": end.isoformat()},
        )
    body["drift_event_id"] = event_id
    body["drift_event_suppressed_by"] = suppressed_by
    aws_io.put_json(s3, bucket, result_key, body)
    title = f"Drift of {settings.model_name}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    aws_io.put_text(s3, bucket, report_key, render_html(baseline, current, result, title), "text/html")
    emit_metrics(metrics, settings.model_name, result, current.rows, bad_lines)
    return {
        "model": settings.model_name,
        "window_end": end.isoformat(),
        "drift_detected": result.drift_detected,
        "drift_share": result.drift_share,
        "drifted_features": result.drifted,
        "rows": current.rows,
        "bad_records": bad_lines,
        "result": result_uri,
        "report": f"s3://{bucket}/{report_key}",
        "drift_event_id": event_id,
        "drift_event_suppressed_by": suppressed_by,
    }
