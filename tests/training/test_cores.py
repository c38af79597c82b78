"""Pure cores of the training domain: request building, evaluation, savings, naming, deployment."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from lambdas.common.errors import InputError
from lambdas.training.deployment import deployment_config, deployment_outcome, next_endpoint_config
from lambdas.training.evaluation import Direction, evaluate, final_metric
from lambdas.training.registration import (
    approval_status,
    feature_schema_fingerprint,
    model_package_request,
    production_metric,
)
from lambdas.training.run_naming import run_names
from lambdas.training.spot_costs import billed_cost, spot_savings
from lambdas.training.spot_training import MetricDefinition, SpotTrainingSpec, create_training_job_request
from lambdas.training.start_event import decide_start
from lambdas.training.summary import RunSummary, render, summary_from_state
from lambdas.training.training_failures import FATAL_ERROR, RETRYABLE_ERROR, classify_failure

SPEC = SpotTrainingSpec(
    image_uri="123.dkr.ecr.eu-west-1.amazonaws.com/fraud:1",
    role_arn="arn:aws:iam::123456789012:role/train",
    instance_type="ml.m5.xlarge",
    max_runtime_seconds=3600,
    max_wait_seconds=7200,
    kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/k",
    subnet_ids=("subnet-1",),
    security_group_ids=("sg-1",),
    metric_definitions=(MetricDefinition("validation:auc", r"auc=(\S+)"),),
)


def test_training_request_enables_spot_with_checkpoints_and_longer_wait() -> None:
    request = create_training_job_request(
        SPEC,
        job_name="j",
        training_data_uri="s3://b/data/",
        checkpoint_uri="s3://b/ckpt/",
        output_uri="s3://b/out/",
    )
    assert request["EnableManagedSpotTraining"] is True
    assert request["CheckpointConfig"] == {"S3Uri": "s3://b/ckpt/", "LocalPath": "/opt/ml/checkpoints"}
    stop = request["StoppingCondition"]
    assert stop["MaxWaitTimeInSeconds"] > stop["MaxRuntimeInSeconds"]
    assert request["OutputDataConfig"]["KmsKeyId"] == SPEC.kms_key_arn
    assert request["ResourceConfig"]["VolumeKmsKeyId"] == SPEC.kms_key_arn
    assert request["VpcConfig"] == {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    assert request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://b/data/"
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "validation:auc", "Regex": r"auc=(\S+)"}
    ]


@pytest.mark.parametrize("wait", [3600, 1800])
def test_training_spec_rejects_max_wait_not_above_max_runtime(wait: int) -> None:
    spec = SpotTrainingSpec(
        image_uri="i",
        role_arn="r",
        instance_type="ml.m5.large",
        max_runtime_seconds=3600,
        max_wait_seconds=wait,
    )
    with pytest.raises(InputError) as err:
        spec.validate("training")
    assert err.value.problems[0].field == "max_wait_seconds"
    assert "greater than max_runtime_seconds" in str(err.value)


def test_training_spec_names_every_problem() -> None:
    spec = SpotTrainingSpec(
        image_uri="", role_arn="r", instance_type="m5.large", instance_count=0, subnet_ids=("s",)
    )
    fields = {p.field for p in spec.problems()}
    assert fields == {"image_uri", "instance_type", "instance_count", "subnet_ids"}


def test_final_metric_reads_named_value_and_names_missing_metric() -> None:
    data = [{"MetricName": "train:loss", "Value": 0.3}, {"MetricName": "validation:auc", "Value": 0.91}]
    assert final_metric(data, "validation:auc") == pytest.approx(0.91)
    with pytest.raises(InputError, match=r"no metric 'validation:f1'.*train:loss"):
        final_metric(data, "validation:f1")


@pytest.mark.parametrize(
    ("direction", "candidate", "production", "margin", "better"),
    [
        ("maximize", 0.92, 0.90, 0.01, True),
        ("maximize", 0.905, 0.90, 0.01, False),
        ("maximize", 0.90, 0.90, 0.0, False),  # a tie is not an improvement
        ("minimize", 0.20, 0.25, 0.01, True),
        ("minimize", 0.30, 0.25, 0.01, False),
        ("minimize", 0.249, 0.25, 0.01, False),
    ],
)
def test_evaluate_respects_direction_and_margin(
    direction: Direction, candidate: float, production: float, margin: float, better: bool
) -> None:
    result = evaluate(
        metric_name="m", candidate=candidate, production=production, margin=margin, direction=direction
    )
    assert result.better is better
    expected = candidate - production if direction == "maximize" else production - candidate
    assert result.improvement == pytest.approx(expected)


def test_evaluate_without_production_accepts_candidate() -> None:
    result = evaluate(metric_name="m", candidate=0.5, production=None, margin=0.1, direction="maximize")
    assert result.better and result.production is None


def test_evaluate_rejects_bad_margin_and_direction() -> None:
    with pytest.raises(InputError, match="margin"):
        evaluate(metric_name="m", candidate=1, production=1, margin=-1, direction="maximize")
    with pytest.raises(InputError, match="direction"):
        evaluate(metric_name="m", candidate=1, production=1, margin=0, direction="up")  # type: ignore[arg-type]


def test_spot_savings_matches_sagemaker_definition() -> None:
    # SageMaker docs: 500 s billable of 2000 s training is a 75 % saving.
    assert spot_savings(500, 2000) == pytest.approx(0.75)
    assert spot_savings(2000, 2000) == pytest.approx(0.0)
    assert spot_savings(None, 2000) is None
    assert spot_savings(10, 0) is None


def test_billed_cost_scales_with_instances_and_price() -> None:
    assert billed_cost(1800, 2, 0.23) == pytest.approx(0.23)
    assert billed_cost(1800, 2, None) is None


@pytest.mark.parametrize(
    ("reason", "retryable"),
    [
        ("CapacityError: Unable to provision requested ML compute capacity.", True),
        ("Training job exceeded MaxWaitTimeInSeconds", True),
        ("AlgorithmError: ExecuteUserScriptError", False),
        (None, False),
    ],
)
def test_classify_failure_retries_only_capacity_problems(reason: str | None, retryable: bool) -> None:
    failure = classify_failure("Failed", reason)
    assert failure.retryable is retryable
    assert failure.error == (RETRYABLE_ERROR if retryable else FATAL_ERROR)


def test_decide_start_accepts_drift_schedule_and_manual_for_own_model() -> None:
    drift = {
        "source": "mlplatform.drift",
        "detail-type": "Model Drift Detected",
        "detail": {"model": "fraud"},
    }
    assert decide_start(drift, "fraud").trigger == "drift"
    assert decide_start({"trigger": "schedule", "model": "fraud"}, "fraud").trigger == "schedule"
    assert decide_start({"model": "fraud"}, "fraud").accepted


def test_decide_start_refuses_unknown_or_missing_model_with_reason() -> None:
    unknown = decide_start({"model": "churn"}, "fraud")
    assert not unknown.accepted and "'churn' is unknown" in unknown.reason
    missing = decide_start(
        {"source": "mlplatform.drift", "detail-type": "Model Drift Detected", "detail": {}}, "fraud"
    )
    assert not missing.accepted and "detail.model is missing" in missing.reason
    assert not decide_start(["model"], "fraud").accepted


def test_run_names_fit_sagemaker_job_name_limit_and_share_checkpoints_per_run() -> None:
    names = run_names("a" * 80 + " model", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC), "bucket")
    assert len(names.job_prefix) + 9 <= 63
    assert names.job_prefix.endswith("-20240501T120000")
    assert names.checkpoint_uri.startswith("s3://bucket/retraining/") and names.checkpoint_uri.endswith(
        "/20240501T120000/checkpoints/"
    )


def test_feature_fingerprint_is_order_independent_sha256() -> None:
    a = feature_schema_fingerprint({"amount": "float", "country": "string"})
    b = feature_schema_fingerprint({"country": "string", "amount": "float"})
    expected = hashlib.sha256(
        json.dumps([["amount", "float"], ["country", "string"]], separators=(",", ":")).encode()
    ).hexdigest()
    assert a == b == expected
    assert feature_schema_fingerprint({"amount": "int"}) != a


def test_approval_status_follows_decision_and_mode() -> None:
    assert approval_status(better=True, mode="automatic") == "Approved"
    assert approval_status(better=True, mode="manual") == "PendingManualApproval"
    assert approval_status(better=False, mode="automatic") == "Rejected"
    with pytest.raises(InputError, match="approval_mode"):
        approval_status(better=True, mode="sometimes")


def test_model_package_request_carries_lineage_and_round_trips_metric() -> None:
    request = model_package_request(
        group_name="g",
        image_uri="img",
        model_data_url="s3://b/model.tar.gz",
        approval="Approved",
        training_job_name="job-1",
        training_data_uri="s3://b/data/",
        feature_fingerprint="abc",
        evaluation={"metric_name": "auc", "candidate": 0.93, "production": 0.9, "reason": "better"},
        spot_savings=0.6,
    )
    meta = request["CustomerMetadataProperties"]
    assert meta["training_job"] == "job-1" and meta["feature_schema_fingerprint"] == "abc"
    assert all(isinstance(v, str) and len(v) <= 256 for v in meta.values())
    assert production_metric(meta, "auc") == pytest.approx(0.93)
    assert production_metric(meta, "f1") is None


CURRENT = {
    "EndpointConfigName": "fraud-v1",
    "EndpointConfigArn": "arn:x",
    "CreationTime": "t",
    "KmsKeyId": "k",
    "DataCaptureConfig": {"EnableCapture": True},
    "ProductionVariants": [
        {"VariantName": "blue", "ModelName": "old", "InstanceType": "ml.m5.large", "InitialInstanceCount": 2},
        {
            "VariantName": "shadow",
            "ModelName": "other",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
        },
    ],
}


def test_next_endpoint_config_replaces_only_target_variant_and_keeps_capture() -> None:
    request = next_endpoint_config(CURRENT, new_name="fraud-v2", model_name="new", variant_name="blue")
    assert request["EndpointConfigName"] == "fraud-v2"
    assert [v["ModelName"] for v in request["ProductionVariants"]] == ["new", "other"]
    assert request["DataCaptureConfig"] == {"EnableCapture": True} and request["KmsKeyId"] == "k"
    assert "EndpointConfigArn" not in request and "CreationTime" not in request
    assert CURRENT["ProductionVariants"][0]["ModelName"] == "old"  # type: ignore[index]


def test_next_endpoint_config_needs_variant_when_ambiguous_or_unknown() -> None:
    with pytest.raises(InputError, match="name the one to replace"):
        next_endpoint_config(CURRENT, new_name="n", model_name="m", variant_name=None)
    with pytest.raises(InputError, match="'green' is not one of"):
        next_endpoint_config(CURRENT, new_name="n", model_name="m", variant_name="green")


def test_deployment_config_is_canary_with_alarm_rollback() -> None:
    config = deployment_config(alarm_names=["latency", "errors"], canary_percent=5)
    policy = config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert policy["Type"] == "CANARY" and policy["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 5}
    assert config["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": "latency"},
        {"AlarmName": "errors"},
    ]
    with pytest.raises(InputError, match="alarm"):
        deployment_config(alarm_names=[])


@pytest.mark.parametrize(
    ("endpoint", "outcome"),
    [
        ({"EndpointStatus": "Updating", "EndpointConfigName": "v1"}, "in_progress"),
        ({"EndpointStatus": "InService", "EndpointConfigName": "v2"}, "succeeded"),
        ({"EndpointStatus": "InService", "EndpointConfigName": "v1"}, "rolled_back"),
        ({"EndpointStatus": "Failed", "FailureReason": "boom"}, "failed"),
    ],
)
def test_deployment_outcome_distinguishes_rollback_from_success(
    endpoint: dict[str, str], outcome: str
) -> None:
    assert deployment_outcome(endpoint, "v2")[0] == outcome


def test_summary_names_job_metrics_decision_cost_and_savings() -> None:
    subject, body = render(
        RunSummary(
            model="fraud",
            outcome="deployed",
            execution="exec-1",
            training_job="job-1",
            metric_name="auc",
            candidate_metric=0.93,
            production_metric=0.9,
            decision="better",
            billable_seconds=600,
            cost_usd=0.05,
            spot_savings=0.7,
        )
    )
    assert subject == "Retraining deployed: fraud"
    for text in (
        "job-1",
        "candidate 0.93",
        "production 0.9",
        "Decision: better",
        "$0.05",
        "Spot savings: 70.0 %",
    ):
        assert text in body


def test_summary_from_partial_state_reports_error() -> None:
    summary = summary_from_state(
        {"error": {"Error": "TrainingJobFailedError", "Cause": "bad image"}},
        model="m",
        outcome="failed",
        execution="e",
    )
    subject, body = render(summary)
    assert (
        subject.startswith("Retraining failed") and "Cause: bad image" in body and "Spot savings: n/a" in body
    )
    assert len(render(RunSummary(model="x" * 200, outcome="failed", execution="e"))[0]) <= 100


def test_on_demand_request_has_no_wait_budget_but_keeps_checkpoints() -> None:
    spec = SpotTrainingSpec(
        image_uri="i",
        role_arn="r",
        instance_type="ml.m5.large",
        max_runtime_seconds=3600,
        max_wait_seconds=0,
        managed_spot=False,
    )
    request = create_training_job_request(
        spec, job_name="j", training_data_uri="s3://b/d/", checkpoint_uri="s3://b/c/", output_uri="s3://b/o/"
    )
    assert request["EnableManagedSpotTraining"] is False
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert request["CheckpointConfig"]["S3Uri"] == "s3://b/c/"
