"""The distributed drift run: plan the window, profile each object in a Distributed Map, merge and score.

Entry points (one Lambda function each, all driven by the DriftMonitor state machine):
- ``lambdas.drift.map_handler.plan``: lists the window's objects and writes them as a JSON
  array (the Map's ItemReader manifest) to the results bucket; returns where it is.
- ``lambdas.drift.map_handler.profile``: one Map item ``{"bucket", "key", "run_id"}`` ->
  a partial profile JSON next to the manifest. Imports numpy (and pyarrow for Parquet) but
  never scipy, so a Parquet worker fits Lambda's size limit.
- ``lambdas.drift.map_handler.merge``: merges the run's partials and scores them with
  the same code as the single-process function.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.common.errors import InputError, Problem
from lambdas.drift import aws_io
from lambdas.drift.dataset_profile import DatasetProfile
from lambdas.drift.run import merge_object_profiles, partial_key, profile_object, run_id_for
from lambdas.drift.serialization import loads, profile_to_dict
from lambdas.drift.settings import Settings, parse_window_event

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="MLPlatform/Drift")
_state: dict[str, Any] = {}


class MapItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: str = Field(min_length=3)
    key: str = Field(min_length=1)
    run_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,200}$")


class MergeInput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    run_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,200}$")
    window_start: str
    window_end: str
    objects: int = Field(ge=0)


def _parse(model: type[BaseModel], event: Any) -> Any:
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        problems = [Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InputError(problems, source="event") from None


def _settings() -> tuple[Settings, Any]:
    if "settings" not in _state:
        _state["settings"] = Settings.from_env()
        _state["s3"] = boto3.client("s3")
    return _state["settings"], _state["s3"]


def plan_window(event: Any, settings: Settings, s3: Any) -> dict[str, Any]:
    start, end = parse_window_event(event).window(settings.window_hours)
    run_id = run_id_for(settings, end)
    objects = aws_io.window_objects(s3, settings.data_uri, settings.data_format, start, end)
    manifest_key = f"{settings.prefix}/runs/{run_id}/manifest.json"
    aws_io.put_json(s3, settings.results_bucket, manifest_key, objects)
    return {
        "run_id": run_id,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "objects": len(objects),
        "manifest_bucket": settings.results_bucket,
        "manifest_key": manifest_key,
    }


def profile_item(event: Any, settings: Settings, s3: Any) -> dict[str, Any]:
    item: MapItem = _parse(MapItem, event)
    baseline = aws_io.read_baseline(s3, settings.baseline_uri)
    part = profile_object(s3, settings, baseline, item.bucket, item.key)
    body = profile_to_dict(part.profile)
    body["run"] = {
        "object": f"s3://{item.bucket}/{item.key}",
        "bad_lines": part.bad_lines,
        "problems": [str(p) for p in part.problems[:20]],
    }
    key = partial_key(settings, item.run_id, item.key)
    aws_io.put_json(s3, settings.results_bucket, key, body)
    return {"partial": key, "rows": part.profile.rows, "bad_lines": part.bad_lines}


def merge_run(event: Any, settings: Settings, s3: Any, events: Any, sink: Metrics) -> dict[str, Any]:
    from lambdas.drift.scoring_run import finish  # scipy lives only in the scoring function

    run: MergeInput = _parse(MergeInput, event)
    baseline = aws_io.read_baseline(s3, settings.baseline_uri)
    prefix = f"{settings.prefix}/runs/{run.run_id}/partials/"
    parts: list[DatasetProfile] = []
    problems: list[Problem] = []
    bad_lines = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=settings.results_bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            text = aws_io.read_bytes(s3, settings.results_bucket, entry["Key"])
            parts.append(loads(text, source=f"s3://{settings.results_bucket}/{entry['Key']}"))
            info = json.loads(text).get("run", {})
            bad_lines += int(info.get("bad_lines", 0))
            problems += [Problem(info.get("object", ""), p) for p in info.get("problems", [])]
    if len(parts) != run.objects:
        problems.append(Problem("partials", f"{len(parts)} partial profiles for {run.objects} objects"))
    window = (datetime.fromisoformat(run.window_start), datetime.fromisoformat(run.window_end))
    return finish(
        s3=s3,
        events=events,
        metrics=sink,
        settings=settings,
        baseline=baseline,
        current=merge_object_profiles(baseline, parts),
        window=window,
        objects=run.objects,
        bad_lines=bad_lines,
        problems=problems,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def plan(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings, s3 = _settings()
    return plan_window(event, settings, s3)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def profile(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings, s3 = _settings()
    return profile_item(event, settings, s3)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def merge(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings, s3 = _settings()
    if "events" not in _state:
        _state["events"] = boto3.client("events")
    return merge_run(event, settings, s3, _state["events"], metrics)
