"""The retraining state machine of one model, as Amazon States Language data (no CDK).

`constructs_lib.retraining_pipeline.RetrainingPipeline` documents the shape of a run; this
module writes it down. Every value may be a CDK token string (function and role ARNs, the
bucket name); `lambdas.common.asl.JsonPath` values are read from the run's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.common.asl import (
    ENTIRE_STATE,
    EXECUTION_ID,
    LAMBDA_RETRIES,
    TASK_TOKEN,
    JsonPath,
    catch,
    check_graph,
    choice,
    fail,
    lambda_task,
    parallel,
    pass_state,
    render,
    retry,
    string_equals,
    throttling_retry,
    wait,
)
from lambdas.training.errors import REJECTED_ERROR, SpotCapacityError

DEPLOYED_WITH_WARNING = "deployed-with-warning"
TRAINING_SET_FAILED_ERROR = "TrainingSetFailedError"
#: Error names under which Step Functions reports SageMaker API throttling and transient faults.
SAGEMAKER_TRANSIENT_ERRORS = ("SageMaker.ThrottlingException", "SageMaker.AmazonSageMakerException")


@dataclass(frozen=True)
class StepArns:
    """The Lambda steps a run invokes (ARNs or CDK tokens for them)."""

    acquire_lock: str
    release_lock: str
    check_training: str
    evaluate: str
    register: str
    request_approval: str
    start_deploy: str
    check_deploy: str
    notify: str
    baseline: str


@dataclass(frozen=True)
class Deployment:
    """Where an approved model goes, and the drift baseline profiled after it is deployed."""

    endpoint_name: str
    variant_name: str | None
    alarm_names: Sequence[str]
    canary_percent: int
    canary_wait_seconds: int
    execution_role_arn: str
    baseline_key: str
    excluded_columns: Sequence[str]


@dataclass(frozen=True)
class TrainingSet:
    """The feature store's training-set runner and the request it is sent."""

    function_arn: str
    request: Mapping[str, Any]


@dataclass(frozen=True)
class RetrainingRun:
    """Everything one model's state machine definition depends on."""

    model_name: str
    partition: str
    steps: StepArns
    artifact_bucket: str
    training_request: Mapping[str, Any]
    model_package_group: str
    metric_name: str
    metric_direction: str
    metric_margin: float
    instance_count: int
    hourly_price: float | None
    inference_image: str
    approval_mode: str
    feature_fingerprint: str
    approval_timeout_seconds: int
    lock_ttl_seconds: int
    timeout_seconds: int
    poll_seconds: int
    capacity_retry_interval_seconds: int
    capacity_retry_attempts: int
    capacity_retry_backoff: float
    deployment: Deployment | None = None
    training_set: TrainingSet | None = None
    comment: str = ""


def invoked_functions(run: RetrainingRun) -> list[str]:
    """The Lambda functions the definition invokes, each once: the state machine's role may
    invoke exactly these."""
    steps = run.steps
    arns = [steps.check_training, steps.request_approval, steps.acquire_lock, steps.evaluate, steps.register]
    if run.deployment is not None:
        arns += [steps.start_deploy, steps.check_deploy, steps.baseline]
    if run.training_set is not None:
        arns.append(run.training_set.function_arn)
    arns += [steps.release_lock, steps.notify]
    return list(dict.fromkeys(arns))


def definition(run: RetrainingRun) -> dict[str, Any]:
    """The state machine definition of `run`."""
    model = run.model_name
    task = lambda_task
    run_states: dict[str, dict[str, Any]] = {
        "SpotTraining": parallel(
            "NameTrainingJob",
            {
                **_training_branch(run),
                "CheckTrainingOutcome": task(
                    run.steps.check_training, input_path="$.training", result_path="$.training"
                ),
            },
            comment="Managed spot training; capacity failures start a new job from the same checkpoints",
            then="EvaluateModel",
            retries=[
                retry(
                    [SpotCapacityError.__name__],
                    interval_seconds=run.capacity_retry_interval_seconds,
                    max_attempts=run.capacity_retry_attempts,
                    backoff_rate=run.capacity_retry_backoff,
                )
            ],
        ),
    }
    start_at = "SpotTraining"
    outer: dict[str, dict[str, Any]] = {
        "KeepStartInput": {"Type": "Pass", "Parameters": {"start.$": "$"}, "Next": "AcquireLock"},
        "AcquireLock": task(
            run.steps.acquire_lock,
            payload={
                "input": JsonPath("$.start"),
                "model": model,
                "execution": EXECUTION_ID,
                "started": JsonPath("$$.Execution.StartTime"),
                "artifact_bucket": run.artifact_bucket,
                "lock_ttl_seconds": run.lock_ttl_seconds,
            },
            result_path="$.lock",
            then="LockAcquired?",
        ),
    }
    run_states["EvaluateModel"] = task(
        run.steps.evaluate,
        payload={
            "model": model,
            "training": JsonPath("$.training"),
            "metric_name": run.metric_name,
            "direction": run.metric_direction,
            "margin": run.metric_margin,
            "model_package_group": run.model_package_group,
            "instance_count": run.instance_count,
            "hourly_price": run.hourly_price,
        },
        result_path="$.evaluation",
        then="RegisterModelPackage",
    )
    run_states["RegisterModelPackage"] = task(
        run.steps.register,
        payload={
            "model_package_group": run.model_package_group,
            "image_uri": run.inference_image,
            "approval_mode": run.approval_mode,
            "training": JsonPath("$.training"),
            "evaluation": JsonPath("$.evaluation"),
            "training_data_uri": JsonPath("$.lock.training_data_uri"),
            "feature_fingerprint": run.feature_fingerprint,
            "metrics_uri": JsonPath("$.lock.evaluation_uri"),
        },
        result_path="$.package",
        then="ApprovalStatus?",
    )
    approved = "StartDeploy" if run.deployment is not None else "RegisteredOnly"
    run_states["NotBetter"] = pass_state(
        {"outcome": "rejected", "decision": JsonPath("$.evaluation.evaluation.reason")},
        result_path="$.result",
    )
    run_states["RejectedByReviewer"] = pass_state(
        {"outcome": "rejected", "decision": "rejected by the reviewer in the model registry"},
        result_path="$.result",
    )
    wait_for_approval = {
        "Type": "Task",
        "Resource": f"arn:{run.partition}:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": run.steps.request_approval,
            "Payload": render(
                {
                    "task_token": TASK_TOKEN,
                    "model": model,
                    "model_package_arn": JsonPath("$.package.model_package_arn"),
                    "execution": EXECUTION_ID,
                    "timeout_seconds": run.approval_timeout_seconds,
                }
            ),
        },
        "TimeoutSeconds": run.approval_timeout_seconds,
        "ResultPath": "$.approval",
        "Retry": [dict(r) for r in LAMBDA_RETRIES],
        "Catch": [catch("RejectedByReviewer", "$.approval", [REJECTED_ERROR])],
        "Next": approved,
    }
    run_states["WaitForApproval"] = wait_for_approval
    if run.deployment is not None:
        run_states.update(_deploy_states(run, run.deployment))
    else:
        run_states["RegisteredOnly"] = pass_state(
            {"outcome": "registered", "decision": "approved; no endpoint is configured to deploy to"},
            result_path="$.result",
        )
    run_states["ApprovalStatus?"] = choice(
        [
            (string_equals("$.package.approval_status", "Rejected"), "NotBetter"),
            (string_equals("$.package.approval_status", "PendingManualApproval"), "WaitForApproval"),
        ],
        default=approved,
    )
    if run.training_set is not None:
        run_states.update(_training_set_states(run.training_set, run.poll_seconds, then=start_at))
        start_at = "BuildTrainingSet"

    outer["Run"] = parallel(
        start_at,
        run_states,
        comment="the retraining run; any failure is caught",
        then="ReleaseLock",
        catches=[catch("Cleanup", "$.error")],
    )
    outer["ReleaseLock"] = task(
        run.steps.release_lock,
        payload={"model": model, "execution": EXECUTION_ID},
        result_path=None,
        then="NotifyOutcome",
        catches=[catch("NotifyFailure", "$.error")],
    )
    outer["NotifyOutcome"] = task(
        run.steps.notify,
        payload={
            "model": model,
            "outcome": JsonPath("$.result.outcome"),
            "execution": EXECUTION_ID,
            "state": ENTIRE_STATE,
        },
        result_path=None,
        then="Done",
        catches=[catch("RetrainingFailed", "$.error")],
    )
    outer["Done"] = {"Type": "Succeed"}
    outer["RetrainingFailed"] = fail("RetrainingFailed", "$.error.Cause")
    outer["NotifyFailure"] = task(
        run.steps.notify,
        payload={"model": model, "outcome": "failed", "execution": EXECUTION_ID, "state": ENTIRE_STATE},
        result_path=None,
        then="RetrainingFailed",
        catches=[catch("RetrainingFailed", "$.notifyError")],
    )
    outer["Cleanup"] = task(
        run.steps.release_lock,
        payload={
            "model": model,
            "execution": EXECUTION_ID,
            "job_prefix": JsonPath("$.lock.job_prefix"),
            "stop_training_jobs": True,
        },
        result_path=None,
        then="NotifyFailure",
        catches=[catch("NotifyFailure", "$.cleanupError")],
    )
    outer["LockAcquired?"] = choice(
        [
            ({"Variable": "$.lock.acquired", "BooleanEquals": True}, "Run"),
            (string_equals("$.lock.status", "busy"), "SkippedAlreadyRunning"),
        ],
        default="StartRefused",
    )
    outer["SkippedAlreadyRunning"] = {
        "Type": "Succeed",
        "Comment": "another run of this model holds the lock",
    }
    outer["StartRefused"] = fail("StartRefused", "$.lock.reason")
    body: dict[str, Any] = {
        "StartAt": "KeepStartInput",
        "States": outer,
        "TimeoutSeconds": run.timeout_seconds,
    }
    if run.comment:
        body["Comment"] = run.comment
    check_graph(outer, "KeepStartInput", f"retraining of {model}: ")
    return body


def _training_branch(run: RetrainingRun) -> dict[str, dict[str, Any]]:
    """Name a job, create it, then describe it every poll interval until it stops running."""
    sdk = f"arn:{run.partition}:states:::aws-sdk:sagemaker"
    return {
        "NameTrainingJob": pass_state(
            {
                # A fresh short suffix per attempt: SageMaker job names are unique forever.
                "jobName": JsonPath(
                    "States.Format('{}-{}', $.lock.job_prefix, "
                    "States.ArrayGetItem(States.StringSplit(States.UUID(), '-'), 0))"
                )
            },
            result_path="$.attempt",
            then="CreateTrainingJob",
        ),
        "CreateTrainingJob": {
            "Type": "Task",
            "Resource": f"{sdk}:createTrainingJob",
            "Parameters": render(run.training_request),
            "ResultPath": None,
            "Retry": [throttling_retry(SAGEMAKER_TRANSIENT_ERRORS)],
            "Next": "DescribeTrainingJob",
        },
        "DescribeTrainingJob": {
            "Type": "Task",
            "Resource": f"{sdk}:describeTrainingJob",
            "Parameters": {"TrainingJobName.$": "$.attempt.jobName"},
            # Name and status are always in the response; the rest is read by the check step.
            "ResultSelector": {
                "TrainingJobName.$": "$.TrainingJobName",
                "TrainingJobStatus.$": "$.TrainingJobStatus",
            },
            "ResultPath": "$.training",
            "Retry": [throttling_retry(SAGEMAKER_TRANSIENT_ERRORS)],
            "Next": "TrainingFinished?",
        },
        # Describe first, wait only while running: a job that ends quickly costs no idle minute.
        "TrainingFinished?": choice(
            [
                (
                    {
                        "Or": [
                            string_equals("$.training.TrainingJobStatus", "InProgress"),
                            string_equals("$.training.TrainingJobStatus", "Stopping"),
                        ]
                    },
                    "WaitForTraining",
                )
            ],
            default="CheckTrainingOutcome",
        ),
        "WaitForTraining": wait(run.poll_seconds, "DescribeTrainingJob"),
    }


def _deploy_states(run: RetrainingRun, deployment: Deployment) -> dict[str, dict[str, Any]]:
    task = lambda_task
    return {
        "StartDeploy": task(
            run.steps.start_deploy,
            payload={
                "model": run.model_name,
                "run_id": JsonPath("$.lock.run_id"),
                "endpoint_name": deployment.endpoint_name,
                "variant_name": deployment.variant_name,
                "model_package_arn": JsonPath("$.package.model_package_arn"),
                "execution_role_arn": deployment.execution_role_arn,
                "alarm_names": list(deployment.alarm_names),
                "canary_percent": deployment.canary_percent,
                "canary_wait_seconds": deployment.canary_wait_seconds,
                "termination_wait_seconds": deployment.canary_wait_seconds,
            },
            result_path="$.deployment",
            then="CheckDeploy",
        ),
        "CheckDeploy": task(
            run.steps.check_deploy,
            payload={
                "endpoint_name": deployment.endpoint_name,
                "endpoint_config_name": JsonPath("$.deployment.endpoint_config_name"),
            },
            result_path="$.deploymentStatus",
            then="DeploymentDone?",
        ),
        "DeploymentDone?": choice(
            [({"Variable": "$.deploymentStatus.done", "BooleanEquals": True}, "Deployed")],
            default="WaitForDeployment",
        ),
        "WaitForDeployment": wait(run.poll_seconds, "CheckDeploy"),
        "Deployed": pass_state(
            {"outcome": "deployed", "decision": JsonPath("$.evaluation.evaluation.reason")},
            result_path="$.result",
            then="ProfileBaseline",
        ),
        # A failed profile warns: the deploy stands.
        "ProfileBaseline": task(
            run.steps.baseline,
            payload={
                "model": run.model_name,
                "run_id": JsonPath("$.lock.run_id"),
                "training_data_uri": JsonPath("$.lock.training_data_uri"),
                "artifact_bucket": run.artifact_bucket,
                "baseline_key": deployment.baseline_key,
                "excluded_columns": list(deployment.excluded_columns),
            },
            result_path="$.baseline",
            catches=[catch("DeployedWithWarning", "$.baselineError")],
        ),
        "DeployedWithWarning": pass_state(
            {"outcome": DEPLOYED_WITH_WARNING, "decision": JsonPath("$.result.decision")},
            result_path="$.result",
        ),
    }


def _training_set_states(
    training_set: TrainingSet, poll_seconds: int, *, then: str
) -> dict[str, dict[str, Any]]:
    """Start the training-set query, poll it until it ends, then continue with `then`."""
    task = lambda_task
    state = "$.training_set.state"
    return {
        "BuildTrainingSet": task(
            training_set.function_arn,
            payload={**training_set.request, "output_uri": JsonPath("$.lock.training_data_uri")},
            result_path="$.training_set",
            then="TrainingSetReady?",
        ),
        "TrainingSetReady?": choice(
            [
                (string_equals(state, "SUCCEEDED"), then),
                (
                    {"Or": [string_equals(state, "QUEUED"), string_equals(state, "RUNNING")]},
                    "WaitForTrainingSet",
                ),
            ],
            default="TrainingSetFailed",
        ),
        "WaitForTrainingSet": wait(poll_seconds, "CheckTrainingSet"),
        "CheckTrainingSet": task(
            training_set.function_arn,
            payload={"query_execution_id": JsonPath("$.training_set.query_execution_id")},
            result_path="$.training_set",
            then="TrainingSetReady?",
        ),
        # Inside the Run branch: the Parallel's Catch stops jobs, releases the lock and notifies.
        # The whole result, not States.Format: a null reason there would be a States.Runtime
        # error, which no Catch sees, and the lock would stay taken until its TTL.
        "TrainingSetFailed": fail(TRAINING_SET_FAILED_ERROR, "States.JsonToString($.training_set)"),
    }
