"""Inference script for the SageMaker scikit-learn container (``code/inference.py`` in model.tar.gz).

Self-contained on purpose: the container has this file, the artifact and scikit-learn, not
the fraud service package. The container calls ``model_fn`` once, then per request
``input_fn`` → ``predict_fn`` → ``output_fn``.

Request (``application/json``): ``{"features": {name: value}}`` for one transaction or
``{"instances": [{name: value}, ...]}``; ``null`` is a missing value. Response:
``{"scores": [p, ...], "model_version": "..."}``, the fraud probability per instance. The
``features``/``scores`` shape is what the platform's data-capture reader understands, so
drift and performance monitoring read this endpoint's capture as is.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import joblib
import numpy as np

JSON = "application/json"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


class FraudModel:
    """The fitted classifier with the feature order and version it was trained with."""

    def __init__(self, estimator: Any, feature_names: list[str], model_version: str) -> None:
        self.estimator = estimator
        self.feature_names = feature_names
        self.model_version = model_version


def model_fn(model_dir: str) -> FraudModel:
    with open(os.path.join(model_dir, METADATA_FILE), encoding="utf-8") as handle:
        metadata = json.load(handle)
    trained_with = metadata.get("sklearn_version")
    import sklearn

    if trained_with and trained_with.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        # A pickled estimator is only guaranteed to load in the version that wrote it.
        raise RuntimeError(
            f"model was trained with scikit-learn {trained_with} but the container has "
            f"{sklearn.__version__}; train with the container's version or use an image with {trained_with}"
        )
    estimator = joblib.load(os.path.join(model_dir, MODEL_FILE))
    # One OpenMP thread: a request scores one transaction, and starting a thread team per
    # request costs milliseconds (seconds on a busy host) for no gain.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="openmp")
    return FraudModel(estimator, list(metadata["feature_names"]), str(metadata["model_version"]))


def input_fn(request_body: str | bytes, request_content_type: str) -> list[dict[str, Any]]:
    if (request_content_type or "").split(";")[0].strip().lower() != JSON:
        raise ValueError(f"unsupported content type {request_content_type!r}; send {JSON}")
    text = request_body.decode("utf-8") if isinstance(request_body, bytes) else request_body
    body = json.loads(text)
    if isinstance(body, dict) and isinstance(body.get("features"), dict):
        return [body["features"]]
    instances = body.get("instances") if isinstance(body, dict) else None
    if isinstance(instances, list) and instances and all(isinstance(item, dict) for item in instances):
        return list(instances)
    raise ValueError('expected {"features": {...}} or {"instances": [{...}, ...]}')


def _value(name: str, value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"feature {name!r} must be a number or null, got {value!r}")
    return float(value)


def predict_fn(input_data: list[dict[str, Any]], model: FraudModel) -> dict[str, Any]:
    expected = set(model.feature_names)
    rows = []
    for index, instance in enumerate(input_data):
        missing = sorted(expected - instance.keys())
        unknown = sorted(instance.keys() - expected)
        if missing or unknown:
            raise ValueError(f"instance {index}: missing features {missing}, unknown features {unknown}")
        rows.append([_value(name, instance[name]) for name in model.feature_names])
    scores = model.estimator.predict_proba(np.asarray(rows, dtype=float))[:, 1]
    return {"scores": [float(s) for s in scores], "model_version": model.model_version}


def output_fn(prediction: dict[str, Any], accept: str) -> str:
    if accept and (accept.split(";")[0].strip().lower() not in (JSON, "*/*")):
        raise ValueError(f"unsupported accept type {accept!r}; accept {JSON}")
    return json.dumps(prediction)
