"""Lambda steps of the retraining pipeline, called directly against moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from lambdas.common.errors import InputError
from lambdas.training import (
    acquire_lock_handler,
    approval_callback_handler,
    check_deploy_handler,
    check_training_handler,
    evaluate_handler,
    notify_handler,
    register_handler,
    release_lock_handler,
    start_deploy_handler,
)
from lambdas.training.errors import DeploymentRolledBackError, SpotCapacityError, TrainingJobFailedError
from lambdas.training.runtime import client

from .conftest import ACCOUNT, REGION, FakeContext

TABLE = "locks"
GROUP = "fraud-packages"


@pytest.fixture
def table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("LOCK_TABLE_NAME", TABLE)
    return TABLE


def acquire(context: FakeContext, execution: str, start: Any, ttl: int = 3600) -> dict[str, Any]:
    return acquire_lock_handler.handler(
        {
            "input": start,
            "model": "fraud",
            "execution": execution,
            "started": "2024-05-01T12:00:00Z",
            "artifact_bucket": "artifacts",
            "lock_ttl_seconds": ttl,
        },
        context,
    )


def skip_reasons() -> list[str]:
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    return [i["reason"]["S"] for i in items if i["pk"]["S"].startswith("skip#")]


def test_second_start_is_skipped_while_first_holds_lock(table: str, context: FakeContext) -> None:
    first = acquire(context, "exec-1", {"model": "fraud"})
    second = acquire(context, "exec-2", {"model": "fraud"})
    assert first["acquired"] and first["job_prefix"] == "fraud-20240501T120000"
    assert first["checkpoint_uri"] == "s3://artifacts/retraining/fraud/20240501T120000/checkpoints/"
    assert not second["acquired"] and second["status"] == "busy"
    assert "exec-1" in second["reason"]
    assert skip_reasons() == [second["reason"]]


def test_lock_released_by_owner_only_then_reacquirable(table: str, context: FakeContext) -> None:
    acquire(context, "exec-1", {"model": "fraud"})
    assert not release_lock_handler.handler({"model": "fraud", "execution": "exec-2"}, context)["released"]
    assert release_lock_handler.handler({"model": "fraud", "execution": "exec-1"}, context)["released"]
    assert acquire(context, "exec-3", {"model": "fraud"})["acquired"]


def test_expired_lock_is_taken_over(table: str, context: FakeContext) -> None:
    boto3.client("dynamodb").put_item(
        TableName=TABLE,
        Item={"pk": {"S": "lock#fraud"}, "owner": {"S": "dead"}, "expires_at": {"N": "1"}},
    )
    assert acquire(context, "exec-1", {"model": "fraud"})["acquired"]


def test_unknown_model_start_is_refused_and_recorded(table: str, context: FakeContext) -> None:
    result = acquire(context, "exec-1", {"model": "churn"})
    assert result == {"acquired": False, "status": "refused", "reason": result["reason"]}
    assert "'churn' is unknown" in result["reason"]
    assert skip_reasons() == [result["reason"]]
    assert "Item" not in boto3.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "lock#fraud"}})


def test_missing_table_setting_is_named(
    aws: None, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOCK_TABLE_NAME", raising=False)
    with pytest.raises(InputError, match="LOCK_TABLE_NAME"):
        acquire(context, "exec-1", {"model": "fraud"})


def create_job(name: str, status: str, reason: str | None = None) -> None:
    boto3.client("sagemaker").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/train",
        OutputDataConfig={"S3OutputPath": "s3://b/out/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60, "MaxWaitTimeInSeconds": 120},
        EnableManagedSpotTraining=True,
        CheckpointConfig={"S3Uri": "s3://b/ckpt/"},
    )
    # moto finishes every job as Completed at once; set the outcome under test.
    job = sagemaker_backends[ACCOUNT][REGION].training_jobs[name]
    job.training_job_status = status
    job.failure_reason = reason  # type: ignore[attr-defined]


def test_check_training_returns_compact_record_or_named_error(aws: None, context: FakeContext) -> None:
    create_job("done", "Completed")
    record = check_training_handler.handler(
        {"TrainingJobName": "done", "TrainingJobStatus": "Completed"}, context
    )
    assert record["TrainingJobStatus"] == "Completed" and record["CheckpointS3Uri"] == "s3://b/ckpt/"
    assert record["ModelArtifacts"]["S3ModelArtifacts"].endswith("/done/output/model.tar.gz")
    assert all(set(m) == {"MetricName", "Value"} for m in record["FinalMetricDataList"])
    json.dumps(record)  # state-machine payloads must be plain JSON
    create_job("spot", "Failed", "CapacityError: no spot")
    with pytest.raises(SpotCapacityError, match="CapacityError"):
        check_training_handler.handler({"TrainingJobName": "spot"}, context)
    create_job("bad", "Failed", "AlgorithmError: bad")
    with pytest.raises(TrainingJobFailedError, match="AlgorithmError"):
        check_training_handler.handler({"TrainingJobName": "bad"}, context)


def register(
    context: FakeContext, better: bool, auc: float, mode: str = "automatic", metrics_uri: str | None = None
) -> dict[str, Any]:
    return register_handler.handler(
        {
            "model_package_group": GROUP,
            "image_uri": "123.dkr.ecr.eu-west-1.amazonaws.com/fraud:1",
            "approval_mode": mode,
            "training": {
                "TrainingJobName": "job-1",
                "ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"},
            },
            "evaluation": {
                "evaluation": {
                    "metric_name": "validation:auc",
                    "candidate": auc,
                    "production": None,
                    "reason": "r",
                },
                "better": better,
                "spot_savings": 0.5,
            },
            "training_data_uri": "s3://b/data/",
            "feature_fingerprint": "fp",
            "metrics_uri": metrics_uri,
        },
        context,
    )


def evaluate(context: FakeContext, auc: float) -> dict[str, Any]:
    return evaluate_handler.handler(
        {
            "model": "fraud",
            "training": {
                "TrainingJobName": "job-2",
                "FinalMetricDataList": [{"MetricName": "validation:auc", "Value": auc}],
                "BillableTimeInSeconds": 300,
                "TrainingTimeInSeconds": 1000,
            },
            "metric_name": "validation:auc",
            "direction": "maximize",
            "margin": 0.01,
            "model_package_group": GROUP,
            "instance_count": 2,
            "hourly_price": 0.36,
        },
        context,
    )


def test_registration_status_follows_evaluation(aws: None, context: FakeContext) -> None:
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    approved = register(context, better=True, auc=0.9)
    rejected = register(context, better=False, auc=0.8)
    pending = register(context, better=True, auc=0.95, mode="manual")
    assert [approved["approval_status"], rejected["approval_status"], pending["approval_status"]] == [
        "Approved",
        "Rejected",
        "PendingManualApproval",
    ]
    described = sagemaker.describe_model_package(ModelPackageName=rejected["model_package_arn"])
    assert described["ModelApprovalStatus"] == "Rejected"
    assert described["CustomerMetadataProperties"]["training_job"] == "job-1"
    assert "ModelMetrics" not in described


def test_registration_writes_model_quality_report_and_links_it(aws: None, context: FakeContext) -> None:
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    boto3.client("s3").create_bucket(Bucket="art", CreateBucketConfiguration={"LocationConstraint": REGION})
    uri = "s3://art/retraining/fraud/20240501T120000/evaluation/metrics.json"
    arn = register(context, better=True, auc=0.93, metrics_uri=uri)["model_package_arn"]
    package = boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri": uri,
    }
    body = boto3.client("s3").get_object(Bucket="art", Key=uri.removeprefix("s3://art/"))["Body"].read()
    report = json.loads(body)
    assert report["metric"]["value"] == pytest.approx(0.93) and report["spot_savings"] == pytest.approx(0.5)
    assert report["training_job"] == "job-1"


def test_evaluate_compares_with_latest_approved_package_and_emits_spot_savings(
    aws: None, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    assert evaluate(context, 0.5)["evaluation"]["production"] is None
    register(context, better=True, auc=0.9)
    capsys.readouterr()
    result = evaluate(context, 0.905)
    assert result["evaluation"]["production"] == pytest.approx(0.9)
    assert result["better"] is False
    assert result["spot_savings"] == pytest.approx(0.7)
    assert result["cost_usd"] == pytest.approx(300 / 3600 * 2 * 0.36)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf and emf[-1]["SpotSavings"] == [pytest.approx(70.0)] and emf[-1]["model"] == "fraud"


def test_evaluate_names_missing_metric(aws: None, context: FakeContext) -> None:
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    event = {
        "model": "fraud",
        "training": {"TrainingJobName": "j", "FinalMetricDataList": [{"MetricName": "loss", "Value": 1}]},
        "metric_name": "validation:auc",
        "direction": "maximize",
        "margin": 0,
        "model_package_group": GROUP,
        "instance_count": 1,
    }
    with pytest.raises(InputError, match="no metric 'validation:auc'"):
        evaluate_handler.handler(event, context)


UPDATES: list[dict[str, Any]] = []


def fake_update_endpoint(self: SageMakerResponse) -> str:
    """moto 5.2 has no UpdateEndpoint: record the request and switch the config, as SageMaker would on success."""
    params = json.loads(self.body)
    UPDATES.append(params)
    endpoint = self.sagemaker_backend.endpoints[params["EndpointName"]]
    endpoint.endpoint_config_name = params["EndpointConfigName"]
    return json.dumps({"EndpointArn": endpoint.arn})


def make_endpoint() -> None:
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model(
        ModelName="fraud-old",
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/old.tar.gz"},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="fraud-v1",
        ProductionVariants=[
            {
                "VariantName": "blue",
                "ModelName": "fraud-old",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="fraud", EndpointConfigName="fraud-v1")


def test_deploy_creates_config_from_live_one_and_updates_with_guardrails(
    aws: None, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SageMakerResponse, "update_endpoint", fake_update_endpoint, raising=False)
    UPDATES.clear()
    make_endpoint()
    started = start_deploy_handler.handler(
        {
            "model": "fraud",
            "run_id": "20240501T120000",
            "endpoint_name": "fraud",
            "variant_name": "blue",
            "model_package_arn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/1",
            "execution_role_arn": "arn:aws:iam::123456789012:role/model",
            "alarm_names": ["fraud-latency"],
        },
        context,
    )
    assert started["endpoint_config_name"] == "fraud-20240501T120000"
    assert started["previous_config_name"] == "fraud-v1"
    config = boto3.client("sagemaker").describe_endpoint_config(EndpointConfigName="fraud-20240501T120000")
    assert config["ProductionVariants"][0]["ModelName"] == "fraud-20240501T120000"
    guard = UPDATES[0]["DeploymentConfig"]
    assert guard["AutoRollbackConfiguration"]["Alarms"] == [{"AlarmName": "fraud-latency"}]
    assert guard["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    checked = check_deploy_handler.handler(started, context)
    assert checked["done"] and checked["outcome"] == "succeeded"


def test_check_deploy_reports_rollback_as_error(aws: None, context: FakeContext) -> None:
    make_endpoint()
    with pytest.raises(DeploymentRolledBackError, match="rolled back"):
        check_deploy_handler.handler({"endpoint_name": "fraud", "endpoint_config_name": "fraud-v2"}, context)


def test_notify_publishes_summary_to_topic(
    aws: None, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setenv("NOTIFY_TOPIC_ARN", topic)
    state = {
        "training": {"TrainingJobName": "job-9"},
        "evaluation": {
            "evaluation": {"metric_name": "auc", "candidate": 0.9, "production": 0.8, "reason": "better"},
            "spot_savings": 0.6,
        },
    }
    result = notify_handler.handler(
        {"model": "fraud", "outcome": "deployed", "execution": "e", "state": state}, context
    )
    assert result["subject"] == "Retraining deployed: fraud"
    body = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert "job-9" in body["Message"] and "Spot savings: 60.0 %" in body["Message"]


def package_event(arn: str, status: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e",
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "time": "2024-05-01T12:00:00Z",
        "region": REGION,
        "resources": [arn],
        "detail-type": "SageMaker Model Package State Change",
        "detail": {"ModelPackageArn": arn, "ModelApprovalStatus": status, "ModelPackageGroupName": GROUP},
    }


def test_approval_callback_ignores_non_decisions_and_packages_nobody_waits_for(
    table: str, context: FakeContext
) -> None:
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/1"
    pending = approval_callback_handler.handler(package_event(arn, "PendingManualApproval"), context)
    assert not pending["resumed"] and "not a decision" in pending["reason"]
    unknown = approval_callback_handler.handler(package_event(arn, "Approved"), context)
    assert not unknown["resumed"] and "no retraining run is waiting" in unknown["reason"]


def test_approval_callback_drops_token_of_a_run_that_stopped_waiting(
    table: str, context: FakeContext
) -> None:
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/2"
    boto3.client("dynamodb").put_item(
        TableName=TABLE,
        Item={"pk": {"S": f"approval#{arn}"}, "task_token": {"S": "expired-token"}, "model": {"S": "fraud"}},
    )
    # moto accepts any token; the real service answers TaskTimedOut once the wait has timed out.
    with Stubber(client("stepfunctions")) as sfn:
        sfn.add_client_error("send_task_failure", service_error_code="TaskTimedOut", http_status_code=400)
        result = approval_callback_handler.handler(package_event(arn, "Rejected"), context)
    assert not result["resumed"] and "already ended" in result["reason"]
    assert "Item" not in boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"approval#{arn}"}}
    )


def test_release_after_abort_stops_only_this_models_running_jobs(
    table: str, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[str] = []

    def fake_stop(self: SageMakerResponse) -> str:
        """moto 5.2 has no StopTrainingJob: record it and mark the job Stopping, as SageMaker does."""
        name = json.loads(self.body)["TrainingJobName"]
        stopped.append(name)
        self.sagemaker_backend.training_jobs[name].training_job_status = "Stopping"
        return "{}"

    monkeypatch.setattr(SageMakerResponse, "stop_training_job", fake_stop, raising=False)
    create_job("fraud-20240501T120000-0a1b2c3d", "InProgress")
    create_job("fraud-v2-20240501T120000-0a1b2c3d", "InProgress")  # another model sharing the prefix
    create_job("fraud-20240430T120000-99999999", "Completed")
    acquire(context, "arn:exec-1", {"model": "fraud"})
    result = release_lock_handler.handler(
        {"model": "fraud", "execution": "arn:exec-1", "stop_training_jobs": True}, context
    )
    assert result == {"released": True, "stopped_jobs": ["fraud-20240501T120000-0a1b2c3d"]}
    assert stopped == ["fraud-20240501T120000-0a1b2c3d"]


def test_release_from_the_shared_abort_rule_finds_the_model_by_state_machine(
    table: str, context: FakeContext
) -> None:
    assert acquire(context, "arn:exec-7", {"model": "fraud"})["acquired"]
    models = [
        {"state_machine": "arn:states:churn-sm", "model": "churn"},
        {"state_machine": "arn:states:fraud-sm", "model": "fraud"},
    ]
    # The shared rule's event: no model, the run's state machine and the stack's pipelines.
    result = release_lock_handler.handler(
        {"execution": "arn:exec-7", "state_machine": "arn:states:fraud-sm", "models": models}, context
    )
    assert result == {"released": True, "stopped_jobs": []}
    assert "Item" not in boto3.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "lock#fraud"}})
