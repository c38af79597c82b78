"""The SageMaker inference script, run on a model.tar.gz built by the training script."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import fraud_service.inference as inference
import numpy as np
import pytest
from fraud_service.model_features import MODEL_FEATURES
from fraud_service.synthetic import generate
from sklearn.metrics import roc_auc_score


def test_artifact_holds_model_metadata_and_the_inference_script(built_artifact: Any) -> None:
    with tarfile.open(built_artifact.path) as tar:
        names = set(tar.getnames())
    assert names == {"model.joblib", "metadata.json", "code/inference.py"}
    metadata = json.loads((built_artifact.model_dir / "metadata.json").read_text())
    assert metadata["feature_names"] == list(MODEL_FEATURES)
    assert metadata["model_version"] == built_artifact.model_version
    script = (built_artifact.model_dir / "code" / "inference.py").read_text()
    assert script == Path(inference.__file__).read_text()


def test_packaged_model_separates_fraud_on_a_fresh_seed(built_artifact: Any) -> None:
    model = inference.model_fn(str(built_artifact.model_dir))
    data = generate(4000, seed=12345)
    scores = model.estimator.predict_proba(data.features)[:, 1]
    assert built_artifact.heldout_auc > 0.9
    assert roc_auc_score(data.labels, scores) > 0.9


def _instances(rows: np.ndarray) -> list[dict[str, Any]]:
    return [
        {n: (None if np.isnan(v) else float(v)) for n, v in zip(MODEL_FEATURES, row, strict=True)}
        for row in rows
    ]


def test_container_round_trip_matches_the_estimator_and_ignores_key_order(built_artifact: Any) -> None:
    model = inference.model_fn(str(built_artifact.model_dir))
    rows = generate(50, seed=3).features
    instances = _instances(rows)
    shuffled = [dict(reversed(list(i.items()))) for i in instances]
    body = json.dumps({"instances": shuffled})

    out = json.loads(
        inference.output_fn(
            inference.predict_fn(inference.input_fn(body, "application/json"), model), "application/json"
        )
    )

    expected = model.estimator.predict_proba(rows)[:, 1]
    assert np.allclose(out["scores"], expected)
    assert out["model_version"] == built_artifact.model_version


def test_single_features_object_and_nulls_are_missing_values(built_artifact: Any) -> None:
    model = inference.model_fn(str(built_artifact.model_dir))
    features: dict[str, Any] = dict.fromkeys(MODEL_FEATURES)
    features["amount"] = 20.0
    out = inference.predict_fn(
        inference.input_fn(json.dumps({"features": features}).encode(), "application/json; charset=utf-8"),
        model,
    )
    row = np.full((1, len(MODEL_FEATURES)), np.nan)
    row[0, 0] = 20.0
    assert out["scores"] == pytest.approx(model.estimator.predict_proba(row)[:, 1].tolist())


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("a,b", "text/csv", "unsupported content type"),
        ('{"rows": []}', "application/json", "expected"),
        ('{"instances": [1, 2]}', "application/json", "expected"),
    ],
)
def test_input_fn_rejects_what_it_cannot_read(body: str, content_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        inference.input_fn(body, content_type)


def test_predict_fn_names_missing_unknown_and_non_numeric_features(built_artifact: Any) -> None:
    model = inference.model_fn(str(built_artifact.model_dir))
    partial = {n: 1.0 for n in MODEL_FEATURES[1:]} | {"colour": 1.0}
    with pytest.raises(ValueError, match=r"missing features \['amount'\], unknown features \['colour'\]"):
        inference.predict_fn([partial], model)
    text = dict.fromkeys(MODEL_FEATURES, 1.0) | {"amount": "12"}
    with pytest.raises(ValueError, match="'amount' must be a number"):
        inference.predict_fn([text], model)


def test_output_fn_refuses_other_accept_types() -> None:
    with pytest.raises(ValueError, match="unsupported accept"):
        inference.output_fn({"scores": [0.1]}, "text/csv")


def test_model_fn_refuses_an_artifact_from_another_scikit_learn(built_artifact: Any, tmp_path: Path) -> None:
    for item in built_artifact.model_dir.iterdir():
        if item.is_file():
            (tmp_path / item.name).write_bytes(item.read_bytes())
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    (tmp_path / "metadata.json").write_text(json.dumps(metadata | {"sklearn_version": "0.24.2"}))
    with pytest.raises(RuntimeError, match=r"trained with scikit-learn 0\.24\.2"):
        inference.model_fn(str(tmp_path))
