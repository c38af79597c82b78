"""The scheduled analysis function against moto: gather, decide, record, shift, rerun safely."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import numpy as np
import pytest
from boto3.dynamodb.conditions import Key
from moto import mock_aws

from lambdas.ab_analysis import handler as handler_module
from lambdas.ab_analysis.event import Settings
from lambdas.ab_analysis.handler import Clients, process, window_of
from lambdas.common.errors import InputError

REGION = "eu-west-1"
WINDOW_END = window_of(datetime.now(UTC) - timedelta(hours=1), 60)
START = WINDOW_END - timedelta(hours=3)
ROLE = "arn:aws:iam::123456789012:role/sagemaker"


@dataclass
class Env:
    """One experiment on its own endpoint, sharing one moto account with the module's other tests."""

    clients: Clients
    settings: Settings
    experiment_id: str

    @property
    def endpoint(self) -> str:
        return self.settings.endpoint_name

    def weights(self) -> dict[str, float]:
        described = self.clients.sagemaker.describe_endpoint(EndpointName=self.endpoint)
        return {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]}

    def records(self) -> list[dict[str, Any]]:
        query = self.clients.table.query(KeyConditionExpression=Key("experiment_id").eq(self.experiment_id))
        return query["Items"]

    def result_keys(self) -> list[str]:
        listed = self.clients.s3.list_objects_v2(
            Bucket=self.settings.results_bucket, Prefix=f"ab-results/{self.experiment_id}/"
        )
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def process(self, evt: dict[str, Any]) -> dict[str, Any]:
        return process(evt, self.settings, self.clients)

    def event(self, at: datetime = WINDOW_END, **overrides: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "experiment_id": self.experiment_id,
            "endpoint_name": self.endpoint,
            "control": "A",
            "start_time": START.isoformat(),
            "metrics": [{"name": "revenue", "type": "mean"}],
            "ramp": [10, 50, 100],
            "auto_shift": True,
            "cadence_minutes": 60,
        }
        config.update(overrides)
        return {"time": (at + timedelta(seconds=42)).isoformat(), "experiment": config}


@pytest.fixture(scope="module")
def account() -> Iterator[Clients]:
    """One moto account per module: starting moto's SageMaker backend costs about a second."""
    patch = pytest.MonkeyPatch()
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        patch.setenv(name, value)
    with mock_aws():
        base = Settings(
            decisions_table="ab-decisions",
            results_bucket="ab-results",
            outcomes_bucket="ab-outcomes",
            endpoint_name="unused",
        )
        s3 = boto3.client("s3")
        for bucket in (base.results_bucket, base.outcomes_bucket):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("dynamodb").create_table(
            TableName=base.decisions_table,
            KeySchema=[
                {"AttributeName": "experiment_id", "KeyType": "HASH"},
                {"AttributeName": "window", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "experiment_id", "AttributeType": "S"},
                {"AttributeName": "window", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        sm = boto3.client("sagemaker")
        for model in ("model-a", "model-b"):
            sm.create_model(ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img:latest"})
        yield Clients(base)
    patch.undo()


@pytest.fixture
def env(account: Clients, request: pytest.FixtureRequest) -> Env:
    name = request.node.name.replace("_", "-")[5:60].strip("-")
    account.sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "A",
                "ModelName": "model-a",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 0.9,
            },
            {
                "VariantName": "B",
                "ModelName": "model-b",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 0.1,
            },
        ],
    )
    account.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
    settings = Settings(
        decisions_table="ab-decisions",
        results_bucket="ab-results",
        outcomes_bucket="ab-outcomes",
        endpoint_name=name,
    )
    return Env(account, settings, experiment_id=name)


def write_outcomes(
    env: Env, *, lift: float, period_end: datetime, n: dict[str, int] | None = None, name: str = "part-0"
) -> None:
    """Per-unit lines (n=1) for each variant, written as one JSON-lines object."""
    rng = np.random.default_rng(0)
    counts = n or {"A": 4500, "B": 500}
    lines: list[str] = []
    for variant, size in counts.items():
        values = rng.normal(10.0 * (1 + (lift if variant == "B" else 0.0)), 2.0, size)
        lines.extend(
            json.dumps(
                {
                    "metric": "revenue",
                    "variant": variant,
                    "period_end": period_end.isoformat(),
                    "n": 1,
                    "sum": v,
                    "sum_sq": v * v,
                }
            )
            for v in values
        )
    env.clients.s3.put_object(
        Bucket=env.settings.outcomes_bucket,
        Key=f"ab-outcomes/{env.experiment_id}/{name}.jsonl",
        Body=("\n".join(lines) + "\n").encode(),
    )


def write_endpoint_metrics(env: Env, *, error_rate_b: float = 0.001) -> None:
    rng = np.random.default_rng(1)
    data = []
    for i in range(12):
        at = WINDOW_END - timedelta(minutes=5 * (i + 1) + 1)
        for variant, invocations, rate in (("A", 900, 0.001), ("B", 100, error_rate_b)):
            dims = [
                {"Name": "EndpointName", "Value": env.endpoint},
                {"Name": "VariantName", "Value": variant},
            ]
            data.extend(
                [
                    {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": at, "Value": invocations},
                    {
                        "MetricName": "Invocation5XXErrors",
                        "Dimensions": dims,
                        "Timestamp": at,
                        "Value": round(invocations * rate),
                    },
                    {
                        "MetricName": "ModelLatency",
                        "Dimensions": dims,
                        "Timestamp": at,
                        "Value": float(rng.normal(20_000, 500)),
                    },
                ]
            )
    for start in range(0, len(data), 20):
        env.clients.cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data[start : start + 20])


def test_a_winner_ramps_traffic_to_the_next_step_and_writes_the_report(env: Env) -> None:
    write_outcomes(env, lift=0.05, period_end=WINDOW_END - timedelta(minutes=30))
    write_endpoint_metrics(env)
    out = env.process(env.event())
    assert out["status"] == "decided", out
    assert out["action"] == "ship" and out["variant"] == "B"
    assert out["traffic_applied"] is True
    assert env.weights() == {"A": pytest.approx(0.5), "B": pytest.approx(0.5)}
    window = WINDOW_END.strftime("%Y-%m-%dT%H:%M:%SZ")
    prefix = f"ab-results/{env.experiment_id}/{window}/"
    assert env.result_keys() == [prefix + "report.html", prefix + "result.json"]
    body = env.clients.s3.get_object(Bucket=env.settings.results_bucket, Key=prefix + "result.json")[
        "Body"
    ].read()
    result = json.loads(body)
    assert result["srm"]["observed"] == {"A": 10_800, "B": 1_200}
    names = [m["name"] for m in result["metrics"]]
    assert names == ["revenue", "endpoint_model_latency_ms", "endpoint_5xx_error_rate"]
    [record] = env.records()
    assert record["applied"] is True
    assert record["next_ramp_step"] == 1
    assert record["next_phase_start"] == window
    assert json.loads(record["target_weights"]) == {"A": 0.5, "B": 0.5}


def test_a_rerun_of_the_same_window_changes_nothing(env: Env) -> None:
    write_outcomes(env, lift=0.05, period_end=WINDOW_END - timedelta(minutes=30))
    write_endpoint_metrics(env)
    env.process(env.event())
    records, keys = env.records(), env.result_keys()
    # Someone moves traffic by hand after the decision: a rerun must not undo or redo anything.
    env.clients.sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=env.endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "A", "DesiredWeight": 0.7},
            {"VariantName": "B", "DesiredWeight": 0.3},
        ],
    )
    again = env.process(env.event())
    assert again["status"] == "already_processed"
    assert env.records() == records
    assert env.result_keys() == keys
    assert env.weights() == {"A": pytest.approx(0.7), "B": pytest.approx(0.3)}


def test_the_next_look_starts_a_new_phase_with_only_the_new_data(env: Env) -> None:
    write_outcomes(env, lift=0.05, period_end=WINDOW_END - timedelta(minutes=30))
    write_endpoint_metrics(env)
    env.process(env.event())
    later = WINDOW_END + timedelta(hours=1)
    out = env.process(env.event(at=later, endpoint_guardrails=False))
    # The old phase's outcomes are not mixed into the 50/50 phase, which has no data yet.
    assert out["status"] == "no_decision"
    assert "metrics.revenue.variants.A: is missing" in out["reason"]


def test_a_failed_guardrail_rolls_back_to_control_and_finishes(env: Env) -> None:
    write_outcomes(env, lift=0.05, period_end=WINDOW_END - timedelta(minutes=30))
    write_endpoint_metrics(env, error_rate_b=0.05)
    out = env.process(env.event())
    assert out["action"] == "rollback"
    assert "endpoint_5xx_error_rate" in out["reason"]
    assert env.weights() == {"A": pytest.approx(1.0), "B": pytest.approx(0.0)}
    later = env.process(env.event(at=WINDOW_END + timedelta(hours=1)))
    assert later["status"] == "finished"


def test_without_auto_shift_the_decision_is_recorded_but_traffic_stays(env: Env) -> None:
    write_outcomes(env, lift=0.05, period_end=WINDOW_END - timedelta(minutes=30))
    write_endpoint_metrics(env)
    out = env.process(env.event(auto_shift=False))
    assert out["action"] == "ship"
    assert out["traffic_applied"] is False
    assert env.weights() == {"A": pytest.approx(0.9), "B": pytest.approx(0.1)}
    [record] = env.records()
    assert "target_weights" not in record
    assert record["next_ramp_step"] == 0


def test_a_decided_but_unapplied_shift_is_applied_on_rerun(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    write_outcomes(env, lift=0.05, period_end=WINDOW_END - timedelta(minutes=30))
    write_endpoint_metrics(env)

    def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("throttled")

    monkeypatch.setattr(handler_module.aws_io, "set_weights", crash)
    with pytest.raises(RuntimeError):
        env.process(env.event())
    assert env.records()[0]["applied"] is False
    monkeypatch.undo()
    out = env.process(env.event())
    assert out["status"] == "reapplied"
    assert env.weights() == {"A": pytest.approx(0.5), "B": pytest.approx(0.5)}
    assert env.records()[0]["applied"] is True


def test_sequential_state_is_persisted_and_reused_across_windows(env: Env) -> None:
    write_outcomes(env, lift=0.0, period_end=WINDOW_END - timedelta(minutes=30))
    first = env.process(env.event(endpoint_guardrails=False))
    assert first["action"] == "continue"
    write_outcomes(env, lift=0.0, period_end=WINDOW_END + timedelta(minutes=30), name="part-1")
    second = env.process(env.event(at=WINDOW_END + timedelta(hours=1), endpoint_guardrails=False))
    assert second["status"] == "decided"
    latest = max(env.records(), key=lambda r: r["window"])
    state = json.loads(latest["next_state"])
    assert state["comparisons"]["revenue/B"]["looks"] == 2
    assert state["comparisons"]["revenue/B"]["total_n"] == 10_000


def test_malformed_outcome_lines_are_skipped_and_reported(env: Env) -> None:
    write_outcomes(env, lift=0.0, period_end=WINDOW_END - timedelta(minutes=30))
    env.clients.s3.put_object(
        Bucket=env.settings.outcomes_bucket,
        Key=f"ab-outcomes/{env.experiment_id}/bad.jsonl",
        Body=b'{"metric": "revenue", "variant": "B"}\nnot json\n',
    )
    out = env.process(env.event(endpoint_guardrails=False))
    result = json.loads(
        env.clients.s3.get_object(Bucket=env.settings.results_bucket, Key=out["result_key"])["Body"].read()
    )
    assert result["outcome_lines"]["skipped"] == 2
    assert any("bad.jsonl line 2: not JSON" in p for p in result["outcome_lines"]["problems"])


def test_an_event_for_another_endpoint_is_refused(env: Env) -> None:
    with pytest.raises(InputError, match=r"experiment\.endpoint_name"):
        env.process(env.event(endpoint_name="other-endpoint"))
    assert env.records() == []


@dataclass
class FakeContext:
    function_name: str = "ab-analysis"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:ab-analysis"
    aws_request_id: str = "req-1"


def test_handler_turns_a_bad_event_into_a_structured_status(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handler_module, "_settings", env.settings)
    monkeypatch.setattr(handler_module, "_clients", env.clients)
    bad = env.event(ramp=[50, 10], alpha=0.9)
    del bad["experiment"]["control"]
    out = handler_module.handler(bad, FakeContext())
    assert out["status"] == "invalid_input"
    joined = " ".join(out["problems"])
    assert "experiment.control" in joined
    assert "experiment.ramp" in joined
    assert "experiment.alpha" in joined


def test_missing_environment_variables_are_named() -> None:
    with pytest.raises(InputError) as caught:
        Settings.from_env({"RESULTS_BUCKET": "r"})
    message = str(caught.value)
    assert "DECISIONS_TABLE" in message and "ENDPOINT_NAME" in message


def test_each_decision_emits_an_emf_count_with_the_experiment_dimension(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    write_outcomes(env, lift=0.05, period_end=WINDOW_END - timedelta(minutes=30))
    env.process(env.event(endpoint_guardrails=False))
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [ship] = [b for b in blobs if "DecisionShip" in b]
    directive = ship["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "MLPlatform/ABTesting"
    assert ship["experiment_id"] == env.experiment_id
    assert "experiment_id" in directive["Dimensions"][0]


def test_a_shared_function_reads_each_experiments_data_where_its_event_says(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A shared function's environment names the table and its endpoints, not the buckets.
    monkeypatch.setenv("DECISIONS_TABLE", "ab-decisions")
    monkeypatch.setenv("ENDPOINT_NAMES", f"some-other-endpoint,{env.endpoint}")
    write_outcomes(env, lift=0.05, period_end=WINDOW_END - timedelta(minutes=30), name="moved")
    # The experiment's outcomes live under another prefix, which only its event names.
    source = f"ab-outcomes/{env.experiment_id}/moved.jsonl"
    env.clients.s3.copy_object(
        Bucket="ab-outcomes",
        Key=f"elsewhere/{env.experiment_id}/moved.jsonl",
        CopySource=f"ab-outcomes/{source}",
    )
    env.clients.s3.delete_object(Bucket="ab-outcomes", Key=source)
    write_endpoint_metrics(env)
    monkeypatch.setattr(handler_module, "_clients", env.clients)
    locations = {
        "RESULTS_BUCKET": "ab-results",
        "RESULTS_PREFIX": "shared-results/",
        "OUTCOMES_BUCKET": "ab-outcomes",
        "OUTCOMES_PREFIX": "elsewhere/",
    }
    event = {**env.event(), "monitor": locations}
    out = handler_module.handler(event, FakeContext())
    assert out["status"] == "decided", out
    assert out["result_key"].startswith(f"shared-results/{env.experiment_id}/")


@pytest.mark.parametrize(
    ("monitor", "problem"),
    [
        ({"ENDPOINT_NAMES": "any-endpoint"}, "event: monitor.ENDPOINT_NAMES: is the function's own setting"),
        ({"DECISIONS_TABLE": "other"}, "event: monitor.DECISIONS_TABLE: is the function's own setting"),
        ({"RESULTS_BUCKET": ""}, "event.monitor: RESULTS_BUCKET:"),
    ],
)
def test_an_event_cannot_widen_what_a_shared_function_acts_on(
    env: Env, monkeypatch: pytest.MonkeyPatch, monitor: dict[str, str], problem: str
) -> None:
    monkeypatch.setenv("DECISIONS_TABLE", "ab-decisions")
    monkeypatch.setenv("ENDPOINT_NAMES", env.endpoint)
    monkeypatch.setattr(handler_module, "_clients", env.clients)
    locations = {"RESULTS_BUCKET": "ab-results", "OUTCOMES_BUCKET": "ab-outcomes"}
    out = handler_module.handler({**env.event(), "monitor": {**locations, **monitor}}, FakeContext())
    assert out["status"] == "invalid_input"
    assert any(p.startswith(problem) for p in out["problems"]), out["problems"]
    assert env.records() == []


def test_a_shared_function_refuses_endpoints_outside_its_list(env: Env) -> None:
    shared = env.settings.model_copy(update={"endpoint_name": "", "endpoint_names": ["a", "b"]})
    with pytest.raises(InputError, match=r"endpoint\(s\) \['a', 'b'\] only"):
        process(env.event(), shared, env.clients)
    shared_env = {"DECISIONS_TABLE": "t", "ENDPOINT_NAMES": "a, b"}
    from_event = Settings.from_event({"RESULTS_BUCKET": "r", "OUTCOMES_BUCKET": "o"}, shared_env)
    assert from_event.allowed_endpoints == ["a", "b"]
    with pytest.raises(InputError, match=r"event\.monitor: OUTCOMES_BUCKET: Field required"):
        Settings.from_event({"RESULTS_BUCKET": "r"}, shared_env)
