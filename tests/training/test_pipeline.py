"""The synthesized retraining state machines, executed in moto's Step Functions interpreter."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from moto import mock_aws

from lambdas.common.errors import InputError
from lambdas.drift import serialization as drift_serialization
from lambdas.feature_store import athena_handler
from lambdas.training.release_lock_handler import ReleaseRequest
from lambdas.training.runtime import reset_clients

from .pipeline_app import CARD_ACTIVITY, GLUE_DATABASE, TRAINING_SET_REQUEST, build_stack, template_json
from .sfn_harness import JobOutcome, PipelineHarness, QueryOutcome, resources_of

pytestmark = pytest.mark.synth

MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict[str, Any], str | None]:
    """One synth for the whole module, with cdk-nag attached; a second one only if nag objects."""
    stack, _ = build_stack(nag=True)
    try:
        return template_json(stack), None
    except Exception as err:  # ValidationFailed; the findings are printed and written to a report
        stack, _ = build_stack()
        return template_json(stack), str(err)


@pytest.fixture(scope="module")
def template(synthesized: tuple[dict[str, Any], str | None]) -> dict[str, Any]:
    return synthesized[0]


def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged(
    synthesized: tuple[dict[str, Any], str | None],
) -> None:
    assert synthesized[1] is None, synthesized[1]


@pytest.fixture
def harness(template: dict[str, Any]) -> Iterator[PipelineHarness]:
    with mock_aws(config=MOTO_CONFIG), ExitStack() as patches:
        reset_clients()
        athena_handler._settings.cache_clear()  # read from the function's environment again
        pipeline = PipelineHarness(template)
        for patch in pipeline.patches():
            patches.enter_context(patch)
        pipeline.create_resources()
        pipeline.create_feature_groups(GLUE_DATABASE, CARD_ACTIVITY)
        pipeline.create_endpoint("fraud", "blue")
        pipeline.create_endpoint("churn", "AllTraffic")
        yield pipeline
    reset_clients()


def training_jobs() -> list[dict[str, Any]]:
    sagemaker = boto3.client("sagemaker")
    names = [j["TrainingJobName"] for j in sagemaker.list_training_jobs()["TrainingJobSummaries"]]
    return [sagemaker.describe_training_job(TrainingJobName=n) for n in names]


def packages(group: str) -> list[dict[str, Any]]:
    sagemaker = boto3.client("sagemaker")
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    return [sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


def lock_items(template: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """Items of the shared lock table that belong to `model` (its lock, skips and approvals)."""
    [table] = resources_of(template, "AWS::DynamoDB::Table")
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [i for i in items if i["pk"]["S"] == f"lock#{model}" or i.get("model", {}).get("S") == model]


DRIFT_EVENT = {
    "source": "mlplatform.drift",
    "detail-type": "Model Drift Detected",
    "detail": {"model": "fraud", "psi": 0.31},
}


# ------------------------------------------------------------------------- executions
def test_happy_path_trains_on_spot_registers_approved_and_deploys(
    harness: PipelineHarness, template: dict[str, Any]
) -> None:
    harness.scenario.jobs = [JobOutcome(in_progress_polls=1)]
    harness.scenario.queries = [QueryOutcome(running_polls=1)]
    harness.scenario.deploy_in_progress_polls = 1
    execution = harness.start("FraudRetraining", "happy", DRIFT_EVENT)
    result = harness.wait(execution)
    assert result["status"] == "SUCCEEDED", result
    visited = harness.history_states(execution)
    assert visited[visited.index("BuildTrainingSet") :][:5] == [
        "BuildTrainingSet",
        "TrainingSetReady?",
        "WaitForTrainingSet",
        "CheckTrainingSet",
        "TrainingSetReady?",
    ]
    assert visited.index("TrainingSetReady?") < visited.index("SpotTraining")
    assert visited.count("DescribeTrainingJob") == 2 and "WaitForTraining" in visited
    assert visited.count("CheckDeploy") == 2 and "WaitForDeployment" in visited
    output = json.loads(result["output"])
    assert output["result"]["outcome"] == "deployed"

    [job] = training_jobs()
    data_uri = job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert data_uri == output["lock"]["training_data_uri"]
    # The feature store's runner got the configured request plus this run's prefix, and UNLOADed there.
    [query] = harness.scenario.started_queries
    assert query.startswith(
        'UNLOAD (\nWITH k0 AS (SELECT DISTINCT "card_id", "event_time" FROM "ml"."fraud_labels")'
    )
    assert query.endswith(f") TO '{data_uri}' WITH (format = 'PARQUET')")
    assert "AND f.event_date <= '2026-01-31'" in query  # the request's time_range
    assert output["training_set"]["state"] == "SUCCEEDED"
    assert output["training_set"]["output_location"] == data_uri
    bucket, _, prefix = data_uri.removeprefix("s3://").partition("/")
    written = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    assert [o["Key"] for o in written] == [f"{prefix}{output['training_set']['query_execution_id']}_00000"]
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    assert job["CheckpointConfig"]["S3Uri"] == output["lock"]["checkpoint_uri"]
    assert job["CheckpointConfig"]["S3Uri"].endswith(
        f"/retraining/fraud/{output['lock']['run_id']}/checkpoints/"
    )
    assert job["TrainingJobName"].startswith(output["lock"]["job_prefix"] + "-")

    [package] = packages("fraud-retraining")
    assert package["ModelApprovalStatus"] == "Approved"
    lineage = package["CustomerMetadataProperties"]
    assert lineage["training_job"] == job["TrainingJobName"]
    assert lineage["training_data"] == output["lock"]["training_data_uri"]
    assert lineage["metric_value"] == "0.95" and lineage["spot_savings"] == "0.7"
    report_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert report_uri == output["lock"]["evaluation_uri"]
    report_bucket, _, report_key = report_uri.removeprefix("s3://").partition("/")
    report = json.loads(boto3.client("s3").get_object(Bucket=report_bucket, Key=report_key)["Body"].read())
    assert report["metric"] == {
        "name": "validation:auc",
        "value": 0.95,
        "production_value": None,
        "direction": "maximize",
        "margin": 0.01,
        "improvement": None,
    }

    [update] = harness.scenario.endpoint_updates
    assert update["EndpointName"] == "fraud"
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": "fraud-p99-latency"}
    ]
    endpoint = boto3.client("sagemaker").describe_endpoint(EndpointName="fraud")
    assert endpoint["EndpointConfigName"] == output["deployment"]["endpoint_config_name"]

    # After the deploy, the drift monitor's baseline is this run's training set (minus key, time, label).
    s3 = boto3.client("s3")
    live = s3.get_object(Bucket=bucket, Key="baselines/fraud/profile.json")["Body"].read()
    versioned_key = f"retraining/fraud/{output['lock']['run_id']}/baseline-profile.json"
    assert s3.get_object(Bucket=bucket, Key=versioned_key)["Body"].read() == live
    baseline = drift_serialization.loads(live.decode())
    assert baseline.rows == 4 and sorted(baseline.features) == ["amount_1h", "country"]
    assert output["baseline"]["baseline_uri"] == f"s3://{bucket}/baselines/fraud/profile.json"
    assert visited.index("ProfileBaseline") > visited.index("Deployed")

    [note] = harness.notifications()
    assert note["subject"] == "Retraining deployed: fraud"
    assert f"Drift baseline: s3://{bucket}/baselines/fraud/profile.json" in note["message"]
    assert "Spot savings: 70.0 %" in note["message"] and job["TrainingJobName"] in note["message"]
    assert "Cost (upper bound): $0.06" in note["message"]  # 900 s x 1 instance x $0.23/h
    assert [i for i in lock_items(template, "fraud") if i["pk"]["S"] == "lock#fraud"] == []


def test_training_failure_is_caught_cleaned_up_and_notified(
    harness: PipelineHarness, template: dict[str, Any]
) -> None:
    harness.scenario.jobs = [
        JobOutcome(status="Failed", failure_reason="AlgorithmError: ExecuteUserScriptError")
    ]
    result = harness.run("FraudRetraining", "broken", {"model": "fraud"})
    assert result["status"] == "FAILED"
    assert result["error"] == "RetrainingFailed" and "AlgorithmError" in result["cause"]
    assert len(training_jobs()) == 1  # not retried: another attempt would fail the same way
    assert packages("fraud-retraining") == [] and harness.scenario.endpoint_updates == []
    [note] = harness.notifications()
    assert note["subject"] == "Retraining failed: fraud" and "TrainingJobFailedError" in note["message"]
    assert "Cleanup" in harness.history_states(result["executionArn"])
    assert [i for i in lock_items(template, "fraud") if i["pk"]["S"] == "lock#fraud"] == []


def test_failed_training_set_query_fails_the_run_cleans_up_and_notifies(
    harness: PipelineHarness, template: dict[str, Any]
) -> None:
    reason = "COLUMN_NOT_FOUND: line 3:8: Column 'event_time' cannot be resolved"
    harness.scenario.queries = [QueryOutcome(state="FAILED", reason=reason, running_polls=1)]
    result = harness.run("FraudRetraining", "badquery", DRIFT_EVENT)
    assert result["status"] == "FAILED" and result["error"] == "RetrainingFailed"
    assert json.loads(result["cause"])["reason"] == reason
    visited = harness.history_states(result["executionArn"])
    assert visited.count("CheckTrainingSet") == 1 and "TrainingSetFailed" in visited
    assert "SpotTraining" not in visited and training_jobs() == []
    assert visited[-3:] == ["Cleanup", "NotifyFailure", "RetrainingFailed"]
    [note] = harness.notifications()
    assert note["subject"] == "Retraining failed: fraud"
    assert "TrainingSetFailedError" in note["message"] and "COLUMN_NOT_FOUND" in note["message"]
    assert [i for i in lock_items(template, "fraud") if i["pk"]["S"] == "lock#fraud"] == []


def test_cancelled_training_set_query_without_reason_still_fails_cleanly(
    harness: PipelineHarness, template: dict[str, Any]
) -> None:
    harness.scenario.queries = [QueryOutcome(state="CANCELLED")]
    result = harness.run("FraudRetraining", "cancelled", {"model": "fraud"})
    assert result["status"] == "FAILED" and '"state":"CANCELLED"' in result["cause"]
    assert "Cleanup" in harness.history_states(result["executionArn"])
    assert [n["subject"] for n in harness.notifications()] == ["Retraining failed: fraud"]
    assert [i for i in lock_items(template, "fraud") if i["pk"]["S"] == "lock#fraud"] == []


def test_model_not_better_is_registered_rejected_and_not_deployed(harness: PipelineHarness) -> None:
    boto3.client("sagemaker").create_model_package(
        ModelPackageGroupName="fraud-retraining",
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": "img", "ModelDataUrl": "s3://b/prod.tar.gz"}],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        CustomerMetadataProperties={"metric_name": "validation:auc", "metric_value": "0.95"},
    )
    harness.scenario.jobs = [JobOutcome(metrics={"validation:auc": 0.955})]  # +0.005 < margin 0.01
    result = harness.run("FraudRetraining", "worse", {"model": "fraud"})
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["result"]["outcome"] == "rejected"
    assert "does not beat the margin" in output["result"]["decision"]
    statuses = sorted(p["ModelApprovalStatus"] for p in packages("fraud-retraining"))
    assert statuses == ["Approved", "Rejected"]
    assert harness.scenario.endpoint_updates == []
    [note] = harness.notifications()
    assert note["subject"] == "Retraining rejected: fraud" and "production 0.95" in note["message"]


def test_spot_interruption_is_retried_from_same_checkpoints_and_completes(harness: PipelineHarness) -> None:
    harness.scenario.jobs = [
        JobOutcome(
            status="Failed",
            failure_reason="CapacityError: Unable to provision requested ML compute capacity.",
        ),
        JobOutcome(),
    ]
    result = harness.run("FraudRetraining", "spot", {"model": "fraud"})
    assert result["status"] == "SUCCEEDED", result
    first, second = sorted(training_jobs(), key=lambda j: j["CreationTime"])
    assert first["TrainingJobStatus"] == "Failed" and second["TrainingJobStatus"] == "Completed"
    assert first["TrainingJobName"] != second["TrainingJobName"]
    assert first["CheckpointConfig"]["S3Uri"] == second["CheckpointConfig"]["S3Uri"]
    assert json.loads(result["output"])["training"]["TrainingJobName"] == second["TrainingJobName"]
    assert len(harness.scenario.endpoint_updates) == 1


def test_spot_capacity_that_never_arrives_fails_after_retries(harness: PipelineHarness) -> None:
    capacity = JobOutcome(status="Failed", failure_reason="CapacityError: insufficient capacity")
    harness.scenario.jobs = [capacity, capacity, JobOutcome()]
    result = harness.run("FraudRetraining", "nospot", {"model": "fraud"})
    assert result["status"] == "FAILED" and "SpotCapacityError" in harness.notifications()[0]["message"]
    assert len(training_jobs()) == 2  # first attempt + capacity_retry_attempts (1)


def test_rolled_back_deployment_is_reported_as_failure(
    harness: PipelineHarness, template: dict[str, Any]
) -> None:
    harness.scenario.rollback = True
    result = harness.run("FraudRetraining", "rollback", {"model": "fraud"})
    assert result["status"] == "FAILED" and "rolled back" in result["cause"]
    [package] = packages("fraud-retraining")
    assert package["ModelApprovalStatus"] == "Approved"  # registered, but production kept the old model
    assert (
        boto3.client("sagemaker").describe_endpoint(EndpointName="fraud")["EndpointConfigName"] == "fraud-v0"
    )
    [note] = harness.notifications()
    assert note["subject"] == "Retraining failed: fraud" and "DeploymentRolledBackError" in note["message"]
    assert [i for i in lock_items(template, "fraud") if i["pk"]["S"] == "lock#fraud"] == []


def package_event(package_arn: str, status: str) -> dict[str, Any]:
    """The EventBridge event SageMaker sends when a reviewer decides."""
    return {
        "version": "0",
        "id": "e",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2024-05-01T12:00:00Z",
        "region": "eu-west-1",
        "resources": [package_arn],
        "detail-type": "SageMaker Model Package State Change",
        "detail": {
            "ModelPackageArn": package_arn,
            "ModelApprovalStatus": status,
            "ModelPackageGroupName": "churn-retraining",
        },
    }


def wait_for_approval_request(template: dict[str, Any], timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = [i for i in lock_items(template, "churn") if i["pk"]["S"].startswith("approval#")]
        if items:
            return items[0]
        time.sleep(0.05)  # polls the interpreter thread
    raise TimeoutError("no approval request was stored")


def test_manual_rejection_is_not_deployed_and_second_start_is_skipped(
    harness: PipelineHarness, template: dict[str, Any]
) -> None:
    execution = harness.start("ChurnRetraining", "manual", {"model": "churn"})
    request = wait_for_approval_request(template)
    package_arn = request["pk"]["S"].removeprefix("approval#")
    assert boto3.client("sagemaker").describe_model_package(ModelPackageName=package_arn)[
        "ModelApprovalStatus"
    ] == ("PendingManualApproval")

    second = harness.run("ChurnRetraining", "second", {"model": "churn"})
    assert second["status"] == "SUCCEEDED"
    assert json.loads(second["output"])["lock"]["status"] == "busy"
    assert "manual" in json.loads(second["output"])["lock"]["reason"]

    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=package_arn, ModelApprovalStatus="Rejected"
    )
    assert harness.call("ApprovalCallback", package_event(package_arn, "Rejected"))["resumed"]

    result = harness.wait(execution)
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["result"]["outcome"] == "rejected"
    assert harness.scenario.endpoint_updates == []
    subjects = [n["subject"] for n in harness.notifications()]
    assert subjects == ["Retraining awaits approval: churn", "Retraining rejected: churn"]


def test_manual_approval_resumes_the_run_and_deploys(
    harness: PipelineHarness, template: dict[str, Any]
) -> None:
    execution = harness.start("ChurnRetraining", "approved", {"model": "churn"})
    package_arn = wait_for_approval_request(template)["pk"]["S"].removeprefix("approval#")
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=package_arn, ModelApprovalStatus="Approved"
    )
    assert harness.call("ApprovalCallback", package_event(package_arn, "Approved"))["resumed"]
    result = harness.wait(execution)
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["approval"]["approved"] is True
    # churn's training set was never written, so no baseline: the deploy stands, with a warning.
    assert output["result"]["outcome"] == "deployed-with-warning"
    assert "training_data_uri" in output["baselineError"]["Cause"]
    [note] = [n for n in harness.notifications() if "deployed" in n["subject"]]
    assert note["subject"] == "Retraining deployed-with-warning: churn"
    assert "drift baseline was not updated" in note["message"]
    [update] = harness.scenario.endpoint_updates
    assert update["EndpointName"] == "churn"
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": "churn-errors"}
    ]


def test_unknown_model_start_ends_with_recorded_reason(
    harness: PipelineHarness, template: dict[str, Any]
) -> None:
    result = harness.run("FraudRetraining", "stranger", {"model": "churn"})
    assert result["status"] == "FAILED" and result["error"] == "StartRefused"
    assert "'churn' is unknown to this pipeline" in result["cause"]
    [skip] = [i for i in lock_items(template, "fraud") if i["pk"]["S"].startswith("skip#")]
    assert skip["reason"]["S"] == result["cause"]
    assert training_jobs() == []


# ------------------------------------------------------------------------- template
def state_machine(template: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(
        v
        for k, v in resources_of(template, "AWS::StepFunctions::StateMachine").items()
        if k.startswith(prefix)
    )


def test_training_request_in_template_is_managed_spot_with_checkpoints(template: dict[str, Any]) -> None:
    parts = state_machine(template, "FraudRetraining")["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<token>" for p in parts)
    definition = json.loads(text)
    training = definition["States"]["Run"]["Branches"][0]["States"]["SpotTraining"]
    create = training["Branches"][0]["States"]["CreateTrainingJob"]
    assert create["Resource"] == "arn:<token>:states:::aws-sdk:sagemaker:createTrainingJob"
    params = create["Parameters"]
    assert params["EnableManagedSpotTraining"] is True
    assert params["CheckpointConfig"] == {
        "S3Uri.$": "$.lock.checkpoint_uri",
        "LocalPath": "/opt/ml/checkpoints",
    }
    stop = params["StoppingCondition"]
    assert stop["MaxWaitTimeInSeconds"] > stop["MaxRuntimeInSeconds"]
    assert params["OutputDataConfig"]["KmsKeyId"] == "<token>"
    assert training["Retry"][0]["ErrorEquals"] == ["SpotCapacityError"]
    assert definition["States"]["Run"]["Catch"][0]["ErrorEquals"] == ["States.ALL"]


def test_pass_role_is_only_for_training_roles_and_only_to_sagemaker(template: dict[str, Any]) -> None:
    statements = [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "iam:PassRole"
        in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    ]
    assert statements, "the state machine must be able to pass the training role"
    for statement in statements:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for resource in resources:
            assert resource["Fn::GetAtt"][0].startswith(
                ("FraudRetrainingTrainingTrainingRole", "ChurnRetrainingTrainingTrainingRole")
            )
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_state_machine_logs_all_to_kms_log_group_with_tracing(template: dict[str, Any]) -> None:
    props = state_machine(template, "FraudRetraining")["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    log_group_id = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"][
        "Fn::GetAtt"
    ][0]
    assert "KmsKeyId" in template["Resources"][log_group_id]["Properties"]


def test_drift_rule_matches_only_this_models_drift_event(template: dict[str, Any]) -> None:
    patterns = [
        r["Properties"].get("EventPattern") for r in resources_of(template, "AWS::Events::Rule").values()
    ]
    assert {
        "source": ["mlplatform.drift"],
        "detail-type": ["Model Drift Detected"],
        "detail": {"model": ["fraud"]},
    } in patterns


def test_aborted_or_timed_out_runs_are_cleaned_up_by_one_rule_for_all_pipelines(
    template: dict[str, Any],
) -> None:
    rules = [
        r["Properties"]
        for r in resources_of(template, "AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.states"]
    ]
    (rule,) = rules  # one for the stack's pipelines: the event bus's rule quota is per account
    pattern = rule["EventPattern"]
    assert pattern["detail"]["status"] == ["ABORTED", "TIMED_OUT"]
    machines = {
        logical_id: name
        for logical_id in resources_of(template, "AWS::StepFunctions::StateMachine")
        for name in ("fraud", "churn")
        if logical_id.lower().startswith(name)
    }
    assert sorted(json.dumps(arn) for arn in pattern["detail"]["stateMachineArn"]) == sorted(
        json.dumps({"Ref": logical_id}) for logical_id in machines
    )
    [target] = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("RetrainingStepsReleaseLock")
    parts = target["InputTransformer"]["InputTemplate"]["Fn::Join"][1]
    body = "".join(p if isinstance(p, str) else f"arn:states:{p['Ref']}" for p in parts)
    # What the release step receives when each pipeline's run is aborted.
    for logical_id, model in machines.items():
        event = body.replace("<detail-executionArn>", '"arn:exec-1"').replace(
            "<detail-stateMachineArn>", f'"arn:states:{logical_id}"'
        )
        request = ReleaseRequest.model_validate(json.loads(event))
        assert (request.model, request.execution, request.stop_training_jobs) == (model, "arn:exec-1", True)


def test_a_release_for_an_unknown_state_machine_names_the_field() -> None:
    with pytest.raises(ValueError, match="model: not given, and state machine 'arn:other'"):
        ReleaseRequest.model_validate(
            {
                "execution": "arn:exec-1",
                "state_machine": "arn:other",
                "models": [{"state_machine": "arn:sm-1", "model": "fraud"}],
            }
        )


# ------------------------------------------------------------------------- bad props
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_runtime": cdk.Duration.hours(4), "max_wait": cdk.Duration.hours(4)}, "max_wait_seconds"),
        ({"metric_name": ""}, "metric_name"),
        ({"metric_direction": "upwards"}, "metric_direction"),
    ],
)
def test_bad_pipeline_props_fail_synth_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        build_stack(**overrides)
    assert field in [p.field for p in err.value.problems]


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (None, ["training_set_request"]),
        ({**TRAINING_SET_REQUEST, "output_uri": "s3://b/p/"}, ["training_set_request.output_uri"]),
        (
            {"requests": [{"group": "g"}], "query": "SELECT 1"},
            [
                "training_set_request.entity_source",
                "training_set_request.timestamp_column",
                "training_set_request.query",
            ],
        ),
        ({**TRAINING_SET_REQUEST, "requests": []}, ["training_set_request.requests"]),
    ],
)
def test_training_set_request_that_the_runner_would_refuse_fails_synth(
    request_: dict[str, Any] | None, fields: list[str]
) -> None:
    with pytest.raises(InputError) as err:
        build_stack(training_set_request=request_)
    assert [p.field for p in err.value.problems] == fields


def test_pipelines_share_one_events_role_that_starts_only_their_state_machines(
    template: dict[str, Any],
) -> None:
    events_roles = {
        logical_id
        for logical_id, role in resources_of(template, "AWS::IAM::Role").items()
        if "events.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    }
    assert len(events_roles) == 1
    (role_id,) = events_roles
    machine_targets = [
        target
        for rule in resources_of(template, "AWS::Events::Rule").values()
        for target in rule["Properties"]["Targets"]
        if "RoleArn" in target
    ]
    # fraud: drift and schedule; churn: drift.
    assert len(machine_targets) == 3
    assert {t["RoleArn"]["Fn::GetAtt"][0] for t in machine_targets} == {role_id}
    starts = [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"] == [{"Ref": role_id}]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert {s["Action"] for s in starts} == {"states:StartExecution"}
    machines = {json.dumps(s["Resource"]) for s in starts}
    assert machines == {
        json.dumps({"Ref": logical_id})
        for logical_id in resources_of(template, "AWS::StepFunctions::StateMachine")
    }


def test_one_package_decision_rule_lists_every_pipelines_group(template: dict[str, Any]) -> None:
    decisions = [
        rule["Properties"]
        for rule in resources_of(template, "AWS::Events::Rule").values()
        if rule["Properties"].get("EventPattern", {}).get("source") == ["aws.sagemaker"]
    ]
    (rule,) = decisions
    assert rule["EventPattern"]["detail-type"] == ["SageMaker Model Package State Change"]
    assert sorted(rule["EventPattern"]["detail"]["ModelPackageGroupName"]) == [
        "churn-retraining",
        "fraud-retraining",
    ]
    [target] = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("RetrainingStepsApprovalCallback")


def test_scheduled_runs_go_through_the_steps_shared_schedule_rules() -> None:
    stack, pipelines = build_stack(churn_schedule=cdk.aws_events.Schedule.rate(cdk.Duration.days(7)))
    # Both pipelines retrain weekly: one rule, a target (and its model's input) per pipeline.
    assert pipelines["fraud"].schedule_rule is pipelines["churn"].schedule_rule is not None
    scheduled = [
        r["Properties"]
        for r in resources_of(template_json(stack), "AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    ]
    (rule,) = scheduled
    assert rule["ScheduleExpression"] == "rate(7 days)"
    inputs = sorted(json.loads(t["Input"])["model"] for t in rule["Targets"])
    assert inputs == ["churn", "fraud"]


def test_training_roles_share_one_runtime_policy(template: dict[str, Any]) -> None:
    training_roles = {
        logical_id
        for logical_id, role in resources_of(template, "AWS::IAM::Role").items()
        if "sagemaker.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    }
    assert len(training_roles) == 2
    runtime = [
        policy["Properties"]
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        if "ecr:GetAuthorizationToken" in json.dumps(policy["Properties"]["PolicyDocument"])
    ]
    (policy,) = runtime  # the same for every model: one, attached to each training role
    assert {r["Ref"] for r in policy["Roles"]} == training_roles
