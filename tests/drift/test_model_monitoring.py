"""Model performance: metrics against scikit-learn, label joins, and the handler with moto."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import numpy as np
import pytest
from aws_lambda_powertools import Metrics
from moto import mock_aws
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

from lambdas.model_monitoring import handler as handler_module
from lambdas.model_monitoring.ground_truth import read_label_lines
from lambdas.model_monitoring.handler import Clients, Settings, process
from lambdas.model_monitoring.performance import classification_performance, join_labels, roc_auc

RNG = np.random.default_rng(31)
END = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=500).astype(float)
    scores = np.round(np.clip(rng.normal(0.4 + 0.2 * labels, 0.2), 0, 1), 2)  # rounding makes ties
    got = classification_performance(scores, labels, threshold=0.5)
    predicted = scores >= 0.5
    assert got.status == "ok" and got.n == 500
    assert got.auc == pytest.approx(roc_auc_score(labels, scores), rel=1e-12)
    assert got.accuracy == pytest.approx(accuracy_score(labels, predicted))
    assert got.precision == pytest.approx(precision_score(labels, predicted))
    assert got.recall == pytest.approx(recall_score(labels, predicted))


def test_auc_worked_example():
    # positives 0.8, 0.4; negatives 0.5, 0.1: pairs won 1 + 1 + 0 + 1 = 3 of 4
    assert roc_auc(np.array([0.8, 0.4, 0.5, 0.1]), np.array([1.0, 1.0, 0.0, 0.0])) == 0.75


def test_one_class_and_no_labels_are_statuses():
    one = classification_performance(np.array([0.2, 0.9]), np.array([1.0, 1.0]))
    assert one.status == "one_class" and one.to_dict()["auc"] is None
    assert classification_performance(np.array([]), np.array([])).status == "no_labels"


def test_join_counts_what_did_not_match():
    joined = join_labels(
        ["a", "b", "c", "d"], [0.1, None, 0.7, 0.3], {"a": 0.0, "b": 1.0, "c": 1.0, "z": 0.0}
    )
    assert joined.scores.tolist() == [0.1, 0.7] and joined.labels.tolist() == [0.0, 1.0]
    assert (
        joined.predictions_without_label,
        joined.labels_without_prediction,
        joined.predictions_without_score,
    ) == (1, 1, 1)


def test_ground_truth_formats_and_bad_lines():
    lines = [
        json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "e1"}}),
        json.dumps({"inferenceId": "e2", "label": False}),
        json.dumps({"inferenceId": "e3", "label": "maybe"}),
        "{",
    ]
    labels = read_label_lines(lines, source="gt.jsonl")
    assert labels.by_id == {"e1": 1.0, "e2": 0.0}
    assert labels.bad_lines == 2 and labels.problems[0].field == "gt.jsonl:3"


def _capture(inference_id: str, score: float) -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "application/json",
                    "data": '{"features": {"a": 1}}',
                    "encoding": "JSON",
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "data": json.dumps({"score": score}),
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {"eventId": inference_id},
        }
    )


def test_handler_joins_late_labels_and_records_metrics(monkeypatch, capsys):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        n = 300
        labels = RNG.integers(0, 2, size=n)
        scores = np.clip(RNG.normal(0.35 + 0.3 * labels, 0.2), 0, 1)
        hour = END - timedelta(hours=3)
        capture = "\n".join(_capture(f"id{i}", float(s)) for i, s in enumerate(scores))
        s3.put_object(
            Bucket="data", Key=f"capture/fraud/AllTraffic/{hour:%Y/%m/%d/%H}/a.jsonl", Body=capture.encode()
        )
        later = END + timedelta(hours=20)  # labels arrive the next day
        truth = "\n".join(
            json.dumps({"inferenceId": f"id{i}", "label": int(y)}) for i, y in enumerate(labels[:250])
        )
        s3.put_object(Bucket="data", Key=f"labels/fraud/{later:%Y/%m/%d/%H}/gt.jsonl", Body=truth.encode())
        settings = Settings.from_env(
            {
                "MODEL_NAME": "fraud",
                "DATA_URI": "s3://data/capture/fraud/",
                "LABELS_URI": "s3://data/labels/fraud/",
                "RESULTS_BUCKET": "data",
            }
        )
        sink = Metrics(namespace="MLPlatform/ModelPerformance")
        result = process({"time": END.isoformat()}, settings, Clients(s3), sink)
        sink.flush_metrics()
    assert result["n"] == 250 and result["predictions"] == 300
    assert result["label_coverage"] == pytest.approx(250 / 300)
    assert result["auc"] == pytest.approx(roc_auc_score(labels[:250], scores[:250]), rel=1e-12)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf and emf[0]["Model"] == "fraud" and emf[0]["AUC"] == [pytest.approx(result["auc"])]


@dataclass
class _Context:
    function_name: str = "performance"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:performance"
    aws_request_id: str = "req-1"


def test_shared_function_reads_settings_from_the_event_and_counts_failures_per_model(monkeypatch, capsys):
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monitor = {
        "MODEL_NAME": "fraud",
        "DATA_URI": "s3://data/capture/fraud/",
        "LABELS_URI": "s3://data/labels/fraud/",
        "RESULTS_BUCKET": "data",
    }
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        hour = END - timedelta(hours=3)
        capture = "\n".join(_capture(f"id{i}", i / 10) for i in range(10))
        s3.put_object(
            Bucket="data", Key=f"capture/fraud/AllTraffic/{hour:%Y/%m/%d/%H}/a.jsonl", Body=capture.encode()
        )
        truth = "\n".join(json.dumps({"inferenceId": f"id{i}", "label": int(i >= 5)}) for i in range(10))
        s3.put_object(Bucket="data", Key=f"labels/fraud/{hour:%Y/%m/%d/%H}/gt.jsonl", Body=truth.encode())
        handler_module._state.clear()
        ok = handler_module.handler({"time": END.isoformat(), "monitor": monitor}, _Context())
        failed = handler_module.handler(
            {"time": END.isoformat(), "monitor": {**monitor, "MODEL_NAME": "churn", "LABELS_URI": "x"}},
            _Context(),
        )
        handler_module._state.clear()
    assert ok["status"] == "ok" and ok["model"] == "fraud" and ok["auc"] == 1.0
    assert failed["status"] == "error"
    assert failed["problems"][0].startswith("event.monitor: LABELS_URI:")
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [d["Model"] for d in emf if "AUC" in d] == ["fraud"]
    assert [d["Model"] for d in emf if "PerformanceRunErrors" in d] == ["churn"]
