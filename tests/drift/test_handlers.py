"""Scheduled and distributed drift handlers against moto: results, report, metrics, drift event."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aws_lambda_powertools import Metrics
from moto import mock_aws

from lambdas.drift import handler as drift_handler
from lambdas.drift import map_handler
from lambdas.drift.aws_io import DRIFT_DETAIL_TYPE, DRIFT_SOURCE
from lambdas.drift.dataset_profile import profile_baseline
from lambdas.drift.serialization import dumps
from lambdas.drift.settings import Settings
from lambdas.training.start_event import DRIFT_DETAIL_TYPE as TRAINING_DETAIL_TYPE
from lambdas.training.start_event import DRIFT_SOURCE as TRAINING_SOURCE

REGION = "us-east-1"
END = datetime(2026, 3, 10, 12, tzinfo=UTC)
RNG = np.random.default_rng(8)


@dataclass
class _Context:
    function_name: str = "drift"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:drift"
    aws_request_id: str = "req-1"


def _capture_line(amount: float, country: str, score: float, inference_id: str) -> str:
    body = json.dumps({"features": {"amount": amount, "country": country}})
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "application/json",
                    "data": body,
                    "encoding": "JSON",
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "data": str(score),
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {"eventId": inference_id, "inferenceId": inference_id},
        }
    )


def _window_lines(shift: float, n: int) -> list[str]:
    amounts = RNG.normal(100 + 15 * shift, 15, size=n)
    countries = RNG.choice(np.array(["de", "fr", "us"]), size=n)
    scores = RNG.beta(2, 5, size=n)
    return [
        _capture_line(a, c, s, f"i{k}")
        for k, (a, c, s) in enumerate(zip(amounts, countries, scores, strict=True))
    ]


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "MLPlatform/Drift",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        for bucket in ("capture", "results"):
            s3.create_bucket(Bucket=bucket)
        queue = sqs.create_queue(QueueName="drift-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(
            Name="retrain-fraud",
            EventPattern=json.dumps(
                {"source": [DRIFT_SOURCE], "detail-type": [DRIFT_DETAIL_TYPE], "detail": {"model": ["fraud"]}}
            ),
        )
        events.put_targets(Rule="retrain-fraud", Targets=[{"Id": "q", "Arn": arn}])
        baseline = profile_baseline(
            {
                "amount": RNG.normal(100, 15, size=4000),
                "country": RNG.choice(np.array(["de", "fr", "us"]), size=4000),
                "prediction": RNG.beta(2, 5, size=4000),
            }
        )
        s3.put_object(Bucket="results", Key="baselines/fraud.json", Body=dumps(baseline).encode())
        yield {"s3": s3, "events": events, "sqs": sqs, "queue": queue}


def _settings(**overrides) -> Settings:
    env = {
        "MODEL_NAME": "fraud",
        "BASELINE_URI": "s3://results/baselines/fraud.json",
        "DATA_URI": "s3://capture/datacapture/fraud-endpoint/",
        "RESULTS_BUCKET": "results",
        "MAX_OBJECTS": "50",
        **overrides,
    }
    return Settings.from_env(env)


def _put_window(s3, shift: float, hours=(1, 5, 23), rows=400) -> None:
    for variant in ("AllTraffic", "Challenger"):
        for back in hours:
            at = END - timedelta(hours=back)
            key = f"datacapture/fraud-endpoint/{variant}/{at:%Y/%m/%d/%H}/part-{back}.jsonl"
            s3.put_object(Bucket="capture", Key=key, Body="\n".join(_window_lines(shift, rows)).encode())
    # outside the 24 h window: must be ignored
    old = END - timedelta(hours=30)
    s3.put_object(
        Bucket="capture",
        Key=f"datacapture/fraud-endpoint/AllTraffic/{old:%Y/%m/%d/%H}/old.jsonl",
        Body="\n".join(_window_lines(5.0, 100)).encode(),
    )


def _Clients(aws) -> drift_handler.Clients:
    return drift_handler.Clients(aws["s3"], aws["events"])


def _messages(aws) -> list[dict]:
    out = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in out]


def test_drift_event_constants_match_the_retraining_pipeline():
    assert (DRIFT_SOURCE, DRIFT_DETAIL_TYPE) == (TRAINING_SOURCE, TRAINING_DETAIL_TYPE)


def test_scheduled_run_on_drifted_window_writes_result_report_and_one_event(aws, capsys):
    _put_window(aws["s3"], shift=0.6)
    settings = _settings()
    summary = drift_handler.process({"time": END.isoformat()}, settings, _Clients(aws), Metrics())
    assert summary["drift_detected"] is True and "amount" in summary["drifted_features"]
    assert summary["rows"] == 2 * 3 * 400
    result = json.loads(
        aws["s3"]
        .get_object(Bucket="results", Key="drift/fraud/windows/2026-03-10T12/result.json")["Body"]
        .read()
    )
    assert result["features"]["amount"]["drift"] is True
    assert result["features"]["prediction"]["status"] == "ok"  # prediction drift is scored too
    assert result["window_start"] == (END - timedelta(hours=24)).isoformat()
    html = aws["s3"].get_object(Bucket="results", Key="drift/fraud/windows/2026-03-10T12/report.html")
    assert b"<svg" in html["Body"].read()
    messages = _messages(aws)
    assert len(messages) == 1
    assert messages[0]["detail"]["model"] == "fraud" and messages[0]["detail-type"] == "Model Drift Detected"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    per_feature = [d for d in emf if d.get("Feature") == "amount" and "FeatureDrift" in d]
    assert per_feature and per_feature[0]["FeatureDrift"] == [1.0] and per_feature[0]["Model"] == "fraud"

    again = drift_handler.process(
        {"time": (END + timedelta(minutes=5)).isoformat()}, settings, _Clients(aws), Metrics()
    )
    assert again["drift_event_id"] == summary["drift_event_id"]
    assert _messages(aws) == []  # the rerun of the window did not start a second retraining


def test_undrifted_window_publishes_nothing(aws):
    _put_window(aws["s3"], shift=0.0)
    summary = drift_handler.process({"time": END.isoformat()}, _settings(), _Clients(aws), Metrics())
    assert summary["drift_detected"] is False and summary["drift_event_id"] is None
    assert _messages(aws) == []


def test_bad_records_and_unreadable_objects_do_not_stop_the_run(aws):
    _put_window(aws["s3"], shift=0.0, hours=(2,))
    at = END - timedelta(hours=3)
    aws["s3"].put_object(
        Bucket="capture",
        Key=f"datacapture/fraud-endpoint/AllTraffic/{at:%Y/%m/%d/%H}/broken.jsonl.gz",
        Body=b"not gzip",
    )
    aws["s3"].put_object(
        Bucket="capture",
        Key=f"datacapture/fraud-endpoint/AllTraffic/{at:%Y/%m/%d/%H}/bad.jsonl",
        Body=b"garbage\n" + _window_lines(0.0, 1)[0].encode(),
    )
    summary = drift_handler.process({"time": END.isoformat()}, _settings(), _Clients(aws), Metrics())
    assert summary["rows"] == 2 * 400 + 1 and summary["bad_records"] == 1
    result = json.loads(
        aws["s3"]
        .get_object(Bucket="results", Key="drift/fraud/windows/2026-03-10T12/result.json")["Body"]
        .read()
    )
    assert any("broken.jsonl.gz" in p for p in result["problems"])


def test_missing_baseline_is_a_structured_error_from_the_handler(aws, monkeypatch, capsys):
    env = {
        "MODEL_NAME": "fraud",
        "BASELINE_URI": "s3://results/none.json",
        "DATA_URI": "s3://capture/x/",
        "RESULTS_BUCKET": "results",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    drift_handler._state.clear()
    result = drift_handler.handler({"time": END.isoformat()}, _Context())
    drift_handler._state.clear()
    assert result["status"] == "error"
    assert result["problems"] == [
        "s3://results/none.json: BASELINE_URI: no baseline profile there; profile the training data first"
    ]


def test_missing_setting_is_named():
    with pytest.raises(Exception, match="BASELINE_URI"):
        Settings.from_env({"MODEL_NAME": "m", "DATA_URI": "s3://b/p/", "RESULTS_BUCKET": "bucket"})


def test_too_many_objects_points_to_the_distributed_run(aws):
    _put_window(aws["s3"], shift=0.0, rows=30)
    with pytest.raises(Exception, match="use the distributed drift run"):
        drift_handler.process({"time": END.isoformat()}, _settings(MAX_OBJECTS="3"), _Clients(aws), Metrics())


def test_distributed_run_equals_single_process_run(aws):
    _put_window(aws["s3"], shift=0.3)
    settings = _settings()
    single = drift_handler.process({"time": END.isoformat()}, settings, _Clients(aws), Metrics())
    single_result = json.loads(
        aws["s3"]
        .get_object(Bucket="results", Key="drift/fraud/windows/2026-03-10T12/result.json")["Body"]
        .read()
    )

    distributed_settings = _settings(RESULTS_PREFIX="drift-distributed/fraud")
    plan = map_handler.plan_window({"time": END.isoformat()}, distributed_settings, aws["s3"])
    manifest = json.loads(
        aws["s3"].get_object(Bucket=plan["manifest_bucket"], Key=plan["manifest_key"])["Body"].read()
    )
    assert plan["objects"] == len(manifest) == 6
    for item in manifest:  # what the Distributed Map does, one item per worker
        map_handler.profile_item({**item, "run_id": plan["run_id"]}, distributed_settings, aws["s3"])
    merged = map_handler.merge_run(plan, distributed_settings, aws["s3"], aws["events"], Metrics())
    merged_result = json.loads(
        aws["s3"]
        .get_object(Bucket="results", Key="drift-distributed/fraud/windows/2026-03-10T12/result.json")["Body"]
        .read()
    )
    assert merged["drift_detected"] == single["drift_detected"] and merged["rows"] == single["rows"]
    for name, feature in single_result["features"].items():
        for key, value in feature.items():
            other = merged_result["features"][name][key]
            assert other == (pytest.approx(value, rel=1e-9) if isinstance(value, float) else value), (
                name,
                key,
            )


def test_distributed_run_reads_offline_store_parquet(aws):
    for day in (END - timedelta(days=1), END):
        table = pa.table(
            {"amount": RNG.normal(130, 15, size=500), "country": RNG.choice(np.array(["de", "fr"]), size=500)}
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        aws["s3"].put_object(
            Bucket="capture", Key=f"offline/fraud/dt={day:%Y-%m-%d}/part-0.parquet", Body=buffer.getvalue()
        )
    settings = _settings(DATA_URI="s3://capture/offline/fraud/", DATA_FORMAT="parquet")
    plan = map_handler.plan_window({"time": END.isoformat()}, settings, aws["s3"])
    assert plan["objects"] == 2
    for item in json.loads(aws["s3"].get_object(Bucket="results", Key=plan["manifest_key"])["Body"].read()):
        map_handler.profile_item({**item, "run_id": plan["run_id"]}, settings, aws["s3"])
    summary = map_handler.merge_run(plan, settings, aws["s3"], aws["events"], Metrics())
    assert summary["rows"] == 1000 and "amount" in summary["drifted_features"]


def test_cooldown_turns_a_lasting_drift_into_one_retraining(aws):
    _put_window(aws["s3"], shift=0.6, hours=(1, 2, 3, -20, -21))  # negative: after END
    settings = _settings(WINDOW_HOURS="6")
    clients = _Clients(aws)
    first = drift_handler.process({"time": END.isoformat()}, settings, clients, Metrics())
    next_hour = drift_handler.process(
        {"time": (END + timedelta(hours=1)).isoformat()}, settings, clients, Metrics()
    )
    assert first["drift_event_id"] and next_hour["drift_detected"] is True
    assert (
        next_hour["drift_event_id"] is None
        and next_hour["drift_event_suppressed_by"] == first["drift_event_id"]
    )
    a_day_later = drift_handler.process(
        {"time": (END + timedelta(hours=24)).isoformat()}, settings, clients, Metrics()
    )
    assert a_day_later["drift_detected"] is True and a_day_later["drift_event_id"] not in (
        None,
        first["drift_event_id"],
    )
    assert len(_messages(aws)) == 2


def test_platform_config_monitoring_section_is_a_valid_drift_config():
    from stacks.config.models import EffectRule, MonitoringConfig

    rules = {"amount": EffectRule(effect="psi", threshold=0.2)}
    section = MonitoringConfig(min_drift_share=0.3, feature_rules=rules)
    settings = _settings(DRIFT_CONFIG=json.dumps(section.drift_config()))
    config = settings.drift_config.to_config()
    assert config.min_drift_share == 0.3 and config.feature_rules["amount"].effect == "psi"


def _emf(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def _shared_function_event(**overrides: str) -> dict:
    return {
        "time": END.isoformat(),
        "monitor": {
            "MODEL_NAME": "fraud",
            "BASELINE_URI": "s3://results/baselines/fraud.json",
            "DATA_URI": "s3://capture/datacapture/fraud-endpoint/",
            "RESULTS_BUCKET": "results",
            **overrides,
        },
    }


def test_a_shared_function_takes_each_models_settings_from_its_event(aws, capsys):
    _put_window(aws["s3"], shift=0.6)
    drift_handler._state.clear()
    result = drift_handler.handler(_shared_function_event(), _Context())
    assert result["status"] == "ok" and result["model"] == "fraud" and result["drift_detected"] is True
    aws["s3"].head_object(Bucket="results", Key="drift/fraud/windows/2026-03-10T12/result.json")
    # The next event is another model's: nothing of the first is cached.
    aws["s3"].put_object(
        Bucket="results",
        Key="baselines/churn.json",
        Body=aws["s3"].get_object(Bucket="results", Key="baselines/fraud.json")["Body"].read(),
    )
    other = drift_handler.handler(
        _shared_function_event(MODEL_NAME="churn", BASELINE_URI="s3://results/baselines/churn.json"),
        _Context(),
    )
    drift_handler._state.clear()
    assert other["status"] == "ok" and other["model"] == "churn"
    aws["s3"].head_object(Bucket="results", Key="drift/churn/windows/2026-03-10T12/result.json")
    models = {d["Model"] for d in _emf(capsys) if "DriftDetected" in d}
    assert models == {"fraud", "churn"}


@pytest.mark.parametrize(
    ("monitor", "line"),
    [
        ({"WINDOW_HOURS": 24}, "event: monitor.WINDOW_HOURS: must be a string, got int"),
        ("fraud", "event: monitor: must be a non-empty object of setting names to string values"),
        ({"BASELINE_URI": "nope"}, "event.monitor: BASELINE_URI: String should match pattern"),
        # A misspelt setting would otherwise leave the real one at its default.
        ({"WINDOW_HOUR": "6"}, "event: monitor.WINDOW_HOUR: is not a setting of this function"),
    ],
)
def test_bad_settings_in_the_event_are_named(aws, monitor, line):
    event = _shared_function_event()
    event["monitor"] = {**event["monitor"], **monitor} if isinstance(monitor, dict) else monitor
    drift_handler._state.clear()
    result = drift_handler.handler(event, _Context())
    assert result["status"] == "error"
    assert any(p.startswith(line) for p in result["problems"]), result["problems"]


def test_a_run_that_fails_before_scoring_counts_against_its_model(aws, capsys):
    event = _shared_function_event(BASELINE_URI="s3://results/missing.json")
    drift_handler._state.clear()
    assert drift_handler.handler(event, _Context())["status"] == "error"
    (errors,) = [d for d in _emf(capsys) if "DriftRunErrors" in d]
    # The monitor's failure alarm watches DriftRunErrors by Model.
    assert errors["Model"] == "fraud" and errors["DriftRunErrors"] == [1.0]


def test_an_unexpected_failure_is_counted_for_its_model_and_raised(aws, capsys, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("S3 is down")

    monkeypatch.setattr(drift_handler, "process", broken)
    drift_handler._state.clear()
    with pytest.raises(RuntimeError, match="S3 is down"):
        drift_handler.handler(_shared_function_event(), _Context())
    (errors,) = [d for d in _emf(capsys) if "DriftRunErrors" in d]
    assert errors["Model"] == "fraud"
