"""What the platform's monitors read from this product: the endpoint's captured requests
and responses, reviewers' labels, and the drift baseline written by the training script."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fraud_service.inference as inference
import pytest
from fraud_service.labels import Label, label_lines
from fraud_service.model_features import MODEL_FEATURES
from fraud_service.scoring import request_body
from fraud_service.train import PREDICTION, Trained, write_drift_baseline

from lambdas.drift.data_capture import read_capture_lines
from lambdas.drift.serialization import loads
from lambdas.model_monitoring.ground_truth import read_label_lines
from lambdas.model_monitoring.performance import join_labels


def capture_line(inference_id: str, request: str, response: str) -> str:
    """One line as SageMaker data capture writes it for a JSON request and response."""
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "application/json",
                    "mode": "INPUT",
                    "data": request,
                    "encoding": "JSON",
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": response,
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {
                "eventId": "e-" + inference_id,
                "inferenceId": inference_id,
                "inferenceTime": "2026-03-04T05:06:07Z",
            },
            "eventVersion": "0",
        }
    )


def test_captured_requests_and_reviewer_labels_join_on_the_transaction_id(built_artifact: Any) -> None:
    model = inference.model_fn(str(built_artifact.model_dir))
    features: dict[str, float | None] = dict.fromkeys(MODEL_FEATURES, 1.0)
    features["amount_ratio_90d"] = None
    lines = []
    scores = {}
    for tid, amount in (("t-1", 10.0), ("t-2", 900.0)):
        body = request_body(features | {"amount": amount})
        response = inference.output_fn(
            inference.predict_fn(inference.input_fn(body, "application/json"), model), "application/json"
        )
        scores[tid] = json.loads(response)["scores"][0]
        lines.append(capture_line(tid, body, response))

    captured = read_capture_lines(lines, MODEL_FEATURES)
    labels = read_label_lines(
        label_lines([Label("t-2", 1, "ana"), Label("t-1", 0, "ben")], _at()).splitlines()
    )
    joined = join_labels(captured.inference_ids, captured.predictions, labels.by_id)

    assert captured.bad_lines == 0 and captured.inference_ids == ["t-1", "t-2"]
    assert captured.predictions == pytest.approx([scores["t-1"], scores["t-2"]])
    assert captured.columns["amount"] == [10.0, 900.0] and captured.columns["amount_ratio_90d"] == [
        None,
        None,
    ]
    assert list(joined.labels) == [0.0, 1.0] and joined.predictions_without_label == 0


def _at() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 3, 4, 6, tzinfo=UTC)


def test_training_writes_a_drift_baseline_of_every_input_and_the_score(
    built_artifact: Any, tmp_path: Path
) -> None:
    import numpy as np
    from fraud_service.synthetic import generate

    data = generate(400, seed=8)
    scores = inference.model_fn(str(built_artifact.model_dir)).estimator.predict_proba(data.features)[:, 1]
    trained = Trained(
        model=None,
        heldout_auc=0.0,
        heldout_features=data.features,
        heldout_scores=scores,  # type: ignore[arg-type]
        train_rows=0,
        fraud_rate=0.0,
    )
    profile = loads(write_drift_baseline(trained, tmp_path).read_text())

    assert set(profile.features) == {*MODEL_FEATURES, PREDICTION}
    assert profile.rows == 400 and not profile.problems
    assert np.isfinite(scores).all()
