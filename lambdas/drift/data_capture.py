"""SageMaker data capture (JSON Lines) to feature columns, inference ids and predictions.

One line per captured request: ``{"captureData": {"endpointInput": {"data", "encoding",
"observedContentType"}, "endpointOutput": {...}}, "eventMetadata": {"eventId", "inferenceId"?}}``.
Inputs understood, in order: the platform's ``{"features": {...}}``; ``{"instances": [...]}``
(objects, or lists in `feature_names` order); a plain object; a list of objects; CSV rows
(in `feature_names` order). The prediction is the first number of the output: a bare
number, a CSV row, or the first of ``predictions``/``scores``/``probabilities``/``score``/
``probability``/``prediction``. A line that cannot be read is counted with its reason and
skipped: one bad record never hides the rest of the window.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdas.common.errors import Problem

PREDICTION_KEYS = ("predictions", "scores", "probabilities", "score", "probability", "prediction")
MAX_REPORTED_PROBLEMS = 20


@dataclass
class CaptureBatch:
    """Rows read from capture files: one list per feature, aligned with ids and predictions."""

    columns: dict[str, list[Any]] = field(default_factory=dict)
    inference_ids: list[str] = field(default_factory=list)
    predictions: list[float | None] = field(default_factory=list)
    bad_lines: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.inference_ids)

    def _reject(self, where: str, reason: str) -> None:
        self.bad_lines += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(Problem(where, reason))

    def _append(self, record: Mapping[str, Any], inference_id: str, prediction: float | None) -> None:
        row = self.rows
        for name in record.keys() - self.columns.keys():
            self.columns[name] = [None] * row  # a feature first seen now was missing before
        for name, values in self.columns.items():
            values.append(record.get(name))
        self.inference_ids.append(inference_id)
        self.predictions.append(prediction)


def _decode(payload: Mapping[str, Any]) -> str:
    data = payload.get("data", "")
    if not isinstance(data, str):
        raise ValueError("data is not a string")
    if str(payload.get("encoding", "")).upper() == "BASE64":
        return base64.b64decode(data).decode("utf-8")
    return data


def _is_json(payload: Mapping[str, Any]) -> bool:
    encoding = str(payload.get("encoding", "")).upper()
    content_type = str(payload.get("observedContentType", "")).lower()
    return encoding == "JSON" or "json" in content_type


def _records(payload: Mapping[str, Any], feature_names: Sequence[str]) -> list[dict[str, Any]]:
    text = _decode(payload)
    if not _is_json(payload):
        rows = [r for r in csv.reader(io.StringIO(text)) if r]
        return [_by_position(row, feature_names) for row in rows]
    body = json.loads(text)
    if isinstance(body, Mapping) and isinstance(body.get("features"), Mapping):
        return [dict(body["features"])]
    if isinstance(body, Mapping) and isinstance(body.get("instances"), list):
        body = body["instances"]
    if isinstance(body, Mapping):
        return [dict(body)]
    if isinstance(body, list):
        if all(isinstance(item, Mapping) for item in body):
            return [dict(item) for item in body]
        if all(isinstance(item, list) for item in body):
            return [_by_position(item, feature_names) for item in body]
        return [_by_position(body, feature_names)]
    raise ValueError(f"input is a JSON {type(body).__name__}, not an object or list")


def _by_position(row: Sequence[Any], feature_names: Sequence[str]) -> dict[str, Any]:
    if not feature_names:
        raise ValueError("positional input (CSV or list) needs the model's feature names")
    if len(row) != len(feature_names):
        raise ValueError(f"{len(row)} values for {len(feature_names)} features")
    return dict(zip(feature_names, row, strict=True))


def _first_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list) and value:
        return _first_number(value[0])
    if isinstance(value, Mapping):
        for key in PREDICTION_KEYS:
            if key in value:
                return _first_number(value[key])
    return None


def _prediction(payload: Mapping[str, Any] | None) -> float | None:
    if not payload:
        return None
    try:
        text = _decode(payload)
        if _is_json(payload):
            return _first_number(json.loads(text))
        first = next(csv.reader(io.StringIO(text)), [])
        return float(first[0]) if first else None
    except (ValueError, TypeError):
        return None


def read_capture_lines(
    lines: Iterable[str | bytes], feature_names: Sequence[str] = (), source: str = "capture"
) -> CaptureBatch:
    """Parse capture lines; `feature_names` orders positional (CSV / list) inputs."""
    batch = CaptureBatch()
    for number, raw in enumerate(lines, start=1):
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            entry = json.loads(line)
            capture = entry["captureData"]
            metadata = entry.get("eventMetadata") or {}
            records = _records(capture["endpointInput"], feature_names)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            batch._reject(where, detail)
            continue
        base_id = str(metadata.get("inferenceId") or metadata.get("eventId") or where)
        prediction = _prediction(capture.get("endpointOutput")) if len(records) == 1 else None
        for index, record in enumerate(records):
            inference_id = base_id if len(records) == 1 else f"{base_id}#{index}"
            batch._append(record, inference_id, prediction)
    return batch
