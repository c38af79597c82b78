"""`RetrainingPipeline`: drift alarm (or schedule, or a person) → spot training → evaluation →
registry → guarded deploy → notification, as one Step Functions Standard state machine per model.

Shape of a run (every box after the lock is inside one Parallel state whose Catch cleans up):

    AcquireLock ─┬─ busy ──────→ Skipped (Succeed, reason in output and in the lock table)
                 ├─ refused ───→ StartRefused (Fail, reason as cause)
                 └─ acquired → [BuildTrainingSet ⟲ CheckTrainingSet] → SpotTraining → Evaluate → Register
                        → Rejected ─────────────────────→ outcome "rejected"
                        → PendingManualApproval → WaitForApproval ─ rejected → "rejected"
                        → Approved → StartDeploy → Wait/CheckDeploy loop → "deployed"
                        → ProfileBaseline ─ fails → "deployed-with-warning" (the deploy stands)
                 → ReleaseLock → Notify → Succeed
    any failure → Cleanup (stop training jobs, release lock) → Notify("failed") → Fail

BuildTrainingSet (optional) speaks the feature store's training-set runner protocol
(`lambdas.feature_store.athena_handler`): it sends `training_set_request` plus
`"output_uri": $.lock.training_data_uri` (the run's own, empty prefix, which is where the
training job's channel reads), then polls with `{"query_execution_id"}` every
`poll_interval` while `$.training_set.state` is QUEUED or RUNNING; FAILED or CANCELLED
fails the run through the usual cleanup.

ProfileBaseline (after a successful deploy only, so the drift monitor's baseline always
describes the model in production) profiles every column of the run's training set except
`baseline_excluded_columns` and the training-set request's timestamp column, and writes the
drift engine's profile JSON to `baseline_key` (default `baselines/<model>/profile.json`) and
to `retraining/<model>/<run_id>/baseline-profile.json`. Its failure is caught: the run
still succeeds, as "deployed-with-warning", and the notification says why.

The definition itself is data, written in `lambdas.training.pipeline_definition`, and the
state machine's role gets the grants aws-cdk-lib's task classes would have added: invoke of
each step (and its versions), CreateTrainingJob/AddTags/DescribeTrainingJob on training jobs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib import durations
from constructs_lib.iam_statements import add_statement
from constructs_lib.nag import acknowledge, acknowledge_wildcards
from constructs_lib.platform_function import POWERTOOLS, PYDANTIC, PlatformFunction
from constructs_lib.protected_table import protected_table
from constructs_lib.shared_schedules import SharedSchedules
from constructs_lib.spot_training import (
    DEFAULT_CAPACITY_RETRY_INTERVAL,
    DEFAULT_MAX_RUNTIME,
    DEFAULT_MAX_WAIT,
    DEFAULT_POLL_INTERVAL,
    SpotTrainingStep,
    grant_key_use,
    nag_finding,
    training_runtime_policy,
)
from lambdas.common.errors import InputError, Problem
from lambdas.training.baseline import VERSIONED_NAME, default_baseline_key
from lambdas.training.evaluation import DIRECTIONS, Direction
from lambdas.training.pipeline_definition import (
    Deployment,
    RetrainingRun,
    StepArns,
    TrainingSet,
    definition,
    invoked_functions,
)
from lambdas.training.registration import APPROVAL_MODES, ApprovalMode, feature_schema_fingerprint
from lambdas.training.run_naming import ARTIFACT_PREFIX, sanitize_name
from lambdas.training.spot_training import MetricDefinition
from lambdas.training.start_event import DRIFT_DETAIL_TYPE, DRIFT_SOURCE

DEFAULT_APPROVAL_TIMEOUT = durations.days(3)
DEFAULT_CANARY_WAIT = durations.minutes(10)

#: Keys of the training-set runner's start event that the pipeline's request may hold;
#: `output_uri` is not among them: every run writes to its own training-data prefix.
TRAINING_SET_REQUIRED_KEYS = frozenset({"entity_source", "timestamp_column", "requests"})
TRAINING_SET_OPTIONAL_KEYS = frozenset({"time_range"})

#: The baseline step reads Parquet and profiles with numpy; scipy stays out (DESIGN.md size limits).
BASELINE_REQUIREMENTS = (POWERTOOLS, PYDANTIC, "pyarrow>=15,<27", "numpy>=2.2,<3")
METRICS_NAMESPACE = "MLPlatform/Training"
_HANDLERS = "lambdas.training"


#: (step, handler module, what it does) for every shared Lambda step.
_STEPS: tuple[tuple[str, str, str], ...] = (
    ("AcquireLock", "acquire_lock_handler", "checks the start event and takes the model's lock"),
    ("ReleaseLock", "release_lock_handler", "stops a run's training jobs and releases its lock"),
    ("CheckTraining", "check_training_handler", "reads a finished training job; names failures"),
    ("Evaluate", "evaluate_handler", "compares the new model with production; spot savings"),
    ("Register", "register_handler", "registers the model package"),
    ("RequestApproval", "request_approval_handler", "parks the task token for a reviewer"),
    ("ApprovalCallback", "approval_callback_handler", "resumes a run on a package decision"),
    ("StartDeploy", "start_deploy_handler", "starts the guarded endpoint update"),
    ("CheckDeploy", "check_deploy_handler", "polls the endpoint update"),
    ("Notify", "notify_handler", "publishes the run summary"),
)
#: `StepArns` field -> shared step.
_STEP_FIELDS = {
    "acquire_lock": "AcquireLock",
    "release_lock": "ReleaseLock",
    "check_training": "CheckTraining",
    "evaluate": "Evaluate",
    "register": "Register",
    "request_approval": "RequestApproval",
    "start_deploy": "StartDeploy",
    "check_deploy": "CheckDeploy",
    "notify": "Notify",
    "baseline": "Baseline",
}


@jsii.implements(cdk.IStableAnyProducer)
class _Listed:
    """A list that a construct keeps adding to, rendered as it is at synth time."""

    def __init__(self, items: list[dict[str, str]]) -> None:
        self._items = items

    def produce(self) -> Any:
        return list(self._items)


class RetrainingSteps(Construct):
    """The Lambda steps and lock table that every retraining pipeline of a stack shares.

    One set per stack keeps each pipeline to about fifteen resources (a stack holds 500);
    every pipeline adds only its own model's permissions to these roles (`authorize`).
    The model-specific settings travel in each task's payload, not in the environment.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        notification_topic: sns.ITopic,
        lock_table: dynamodb.ITable | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.lock_table = lock_table or self._create_lock_table(key)
        self._decision_rule: events.Rule | None = None
        self._runtime_policies: dict[str, iam.Policy] = {}
        self.schedules = SharedSchedules(self, "Schedules", description="Scheduled retraining runs")
        self._abort_rule: events.Rule | None = None
        self._aborted_models: list[dict[str, str]] = []
        stack = cdk.Stack.of(self)
        #: EventBridge starts every pipeline's runs with this role (one StartExecution grant each).
        self.events_role = iam.Role(
            self,
            "EventsRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="Starts retraining runs on drift events and schedules",
        )
        self.functions: dict[str, PlatformFunction] = {
            step: PlatformFunction(
                self,
                step,
                handler=f"{_HANDLERS}.{module}.handler",
                domains=["training"],
                environment={
                    "LOCK_TABLE_NAME": self.lock_table.table_name,
                    "NOTIFY_TOPIC_ARN": notification_topic.topic_arn,
                    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                },
                timeout=durations.seconds(60),
                memory_size=256,
                description=f"Model retraining: {what}",
                key=key,
            )
            for step, module, what in _STEPS
        }
        # The whole training set is in memory while it is profiled: more memory, more time.
        self.functions["Baseline"] = PlatformFunction(
            self,
            "Baseline",
            handler=f"{_HANDLERS}.baseline_handler.handler",
            domains=["training", "drift"],
            requirements=BASELINE_REQUIREMENTS,
            environment={"POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE},
            timeout=durations.minutes(10),
            memory_size=3008,
            description="Model retraining: profiles a deployed run's training set as the drift baseline",
            key=key,
        )
        role = self.role
        for step in (
            "AcquireLock",
            "ReleaseLock",
            "RequestApproval",
            "ApprovalCallback",
            "Notify",
            "Register",
            "Baseline",
        ):
            grant_key_use(key, role(step))
        self.lock_table.grant(role("AcquireLock"), "dynamodb:PutItem", "dynamodb:GetItem")
        self.lock_table.grant(role("ReleaseLock"), "dynamodb:DeleteItem")
        self.lock_table.grant(role("RequestApproval"), "dynamodb:PutItem")
        self.lock_table.grant(role("ApprovalCallback"), "dynamodb:GetItem", "dynamodb:DeleteItem")
        for step in ("Notify", "RequestApproval"):
            notification_topic.grant_publish(role(step))
            acknowledge(
                role(step),
                "AwsSolutions-IAM5",
                "Publishing to a KMS-encrypted topic needs kms:GenerateDataKey* on the topic's key (grant_publish).",
                applies_to=["Action::kms:GenerateDataKey*"],
            )

        def arn(resource: str, name: str) -> str:
            return stack.format_arn(
                service="sagemaker",
                resource=resource,
                resource_name=name,
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )

        jobs = arn("training-job", "*")
        add_statement(
            role("ReleaseLock"), iam.PolicyStatement(actions=["sagemaker:ListTrainingJobs"], resources=["*"])
        )
        add_statement(
            role("ReleaseLock"), iam.PolicyStatement(actions=["sagemaker:StopTrainingJob"], resources=[jobs])
        )
        add_statement(
            role("CheckTraining"),
            iam.PolicyStatement(actions=["sagemaker:DescribeTrainingJob"], resources=[jobs]),
        )
        add_statement(
            role("Evaluate"), iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=["*"])
        )
        add_statement(
            role("StartDeploy"),
            iam.PolicyStatement(
                actions=["sagemaker:DescribeEndpointConfig", "sagemaker:CreateEndpointConfig"],
                resources=[arn("endpoint-config", "*")],
            ),
        )
        add_statement(
            role("StartDeploy"),
            iam.PolicyStatement(actions=["sagemaker:CreateModel"], resources=[arn("model", "*")]),
        )
        self._acknowledge()

    def role(self, step: str) -> iam.IRole:
        return self.functions[step].role

    def on_run_aborted(self, state_machine: sfn.IStateMachine, model_name: str) -> events.Rule:
        """The rule that stops the training jobs and releases the lock of an aborted or
        timed-out run of `state_machine`: one rule for all the pipelines of these steps, its
        pattern listing their state machines, and its event the list of their models."""
        arn = state_machine.state_machine_arn
        self._aborted_models.append({"state_machine": arn, "model": model_name})
        pattern: dict[str, Any] = {
            "source": ["aws.states"],
            "detail_type": ["Step Functions Execution Status Change"],
            "detail": {"status": ["ABORTED", "TIMED_OUT"], "stateMachineArn": [arn]},
        }
        if self._abort_rule is None:
            self._abort_rule = events.Rule(
                self,
                "OnRunAborted",
                description="Stop training and release the lock of aborted or timed-out retraining runs",
                event_pattern=events.EventPattern(**pattern),
                targets=[
                    targets.LambdaFunction(
                        self.function("ReleaseLock"),
                        event=events.RuleTargetInput.from_object(
                            {
                                "execution": events.EventField.from_path("$.detail.executionArn"),
                                "state_machine": events.EventField.from_path("$.detail.stateMachineArn"),
                                # Read when the template is written: every pipeline is in by then.
                                "models": cdk.Lazy.any(_Listed(self._aborted_models)),
                                "stop_training_jobs": True,
                            }
                        ),
                    )
                ],
            )
        else:
            self._abort_rule.add_event_pattern(**pattern)
        return self._abort_rule

    def on_package_decision(self, model_package_group_name: str) -> events.Rule:
        """The rule that resumes runs waiting for a decision on a package of this group.

        One rule for all the stack's pipelines, its pattern listing their groups: a rule per
        pipeline would count against the event bus's rule quota for no gain.
        """
        pattern: dict[str, Any] = {
            "source": ["aws.sagemaker"],
            "detail_type": ["SageMaker Model Package State Change"],
            "detail": {"ModelPackageGroupName": [model_package_group_name]},
        }
        if self._decision_rule is None:
            self._decision_rule = events.Rule(
                self,
                "OnPackageDecision",
                description="Resume retraining runs waiting for a model package decision",
                event_pattern=events.EventPattern(**pattern),
                targets=[targets.LambdaFunction(self.function("ApprovalCallback"))],
            )
        else:
            # Merged into the pattern: the group names add up to one list.
            self._decision_rule.add_event_pattern(**pattern)
        return self._decision_rule

    def training_runtime_policy(self, *, in_vpc: bool) -> iam.Policy:
        """The runtime policy every training role of these steps' pipelines shares (one per
        network placement): it is the same for every model."""
        construct_id = "TrainingRuntimePolicyInVpc" if in_vpc else "TrainingRuntimePolicy"
        if construct_id not in self._runtime_policies:
            self._runtime_policies[construct_id] = training_runtime_policy(self, construct_id, in_vpc=in_vpc)
        return self._runtime_policies[construct_id]

    @functools.cached_property
    def function_arns(self) -> dict[str, str]:
        """Each step's function ARN, read once for all the stack's pipelines."""
        return {step: fn.function.function_arn for step, fn in self.functions.items()}

    def function(self, step: str) -> lambda_.IFunction:
        return self.functions[step].function

    def authorize(
        self,
        *,
        training_role: iam.IRole,
        artifact_bucket: s3.IBucket,
        model_package_group_name: str,
        endpoint_name: str | None,
        state_machine: sfn.StateMachine,
        model_name: str | None = None,
        baseline_key: str | None = None,
    ) -> None:
        """Add one pipeline's model: its package group, its endpoint, its training role, and
        (with `model_name` and `baseline_key`) its run prefix and baseline for the baseline step."""
        stack = cdk.Stack.of(self)
        if model_name is not None and baseline_key is not None:
            self._authorize_baseline(artifact_bucket, model_name, baseline_key)
        reports = artifact_bucket.arn_for_objects(f"{ARTIFACT_PREFIX}/*")
        add_statement(
            self.role("Register"), iam.PolicyStatement(actions=["s3:PutObject"], resources=[reports])
        )
        acknowledge(
            self.role("Register"),
            "AwsSolutions-IAM5",
            "The model-quality report is an object named per run under the retraining prefix.",
            applies_to=[f"Resource::{nag_finding(self, reports)}"],
        )

        def arn(resource: str, name: str) -> str:
            return stack.format_arn(
                service="sagemaker",
                resource=resource,
                resource_name=name,
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )

        packages = arn("model-package", f"{model_package_group_name}/*")
        for step in ("Evaluate", "Register"):
            acknowledge(
                self.role(step),
                "AwsSolutions-IAM5",
                "Model package versions are numbered by SageMaker within the model's own package group.",
                applies_to=[f"Resource::{nag_finding(self, packages)}"],
            )
        add_statement(
            self.role("Evaluate"),
            iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=[packages]),
        )
        add_statement(
            self.role("Register"),
            iam.PolicyStatement(
                actions=["sagemaker:CreateModelPackage"],
                resources=[packages, arn("model-package-group", model_package_group_name)],
            ),
        )
        state_machine.grant_task_response(self.role("ApprovalCallback"))
        if endpoint_name is None:
            return
        endpoint = arn("endpoint", endpoint_name.lower())
        add_statement(
            self.role("StartDeploy"),
            iam.PolicyStatement(
                actions=["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"], resources=[endpoint]
            ),
        )
        add_statement(
            self.role("StartDeploy"),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[training_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        )
        add_statement(
            self.role("CheckDeploy"),
            iam.PolicyStatement(actions=["sagemaker:DescribeEndpoint"], resources=[endpoint]),
        )

    def _authorize_baseline(self, bucket: s3.IBucket, model_name: str, baseline_key: str) -> None:
        """Read this model's runs' training sets; write its live baseline and the runs' copies."""
        role = self.role("Baseline")
        runs = f"{ARTIFACT_PREFIX}/{sanitize_name(model_name)}"
        training_sets = bucket.arn_for_objects(f"{runs}/*/training-set/*")
        copies = bucket.arn_for_objects(f"{runs}/*/{VERSIONED_NAME}")
        add_statement(
            role,
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{runs}/*/training-set/*"]}},
            ),
        )
        add_statement(role, iam.PolicyStatement(actions=["s3:GetObject"], resources=[training_sets]))
        add_statement(
            role,
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[bucket.arn_for_objects(baseline_key), copies]
            ),
        )
        acknowledge_wildcards(
            role,
            "Training sets and baseline copies are named per run (run id) under the model's retraining "
            "prefix; the training set's file names are chosen by Athena UNLOAD.",
            resources=[training_sets, copies],
        )

    def _acknowledge(self) -> None:
        stack = cdk.Stack.of(self)

        def finding(resource: str) -> str:
            arn = stack.format_arn(
                service="sagemaker",
                resource=resource,
                resource_name="*",
                arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )
            return f"Resource::{nag_finding(self, arn)}"

        reasons = {
            "ReleaseLock": (
                "ListTrainingJobs takes no resource ARN; StopTrainingJob targets run-named jobs (training-job/*).",
                ["Resource::*", finding("training-job")],
            ),
            "CheckTraining": ("Training jobs are named per run and attempt.", [finding("training-job")]),
            "Evaluate": ("ListModelPackages takes no resource ARN.", ["Resource::*"]),
            "StartDeploy": (
                "The deploy step creates an endpoint config and a model named per run.",
                [finding("endpoint-config"), finding("model")],
            ),
        }
        for step, (reason, findings) in reasons.items():
            acknowledge(self.role(step), "AwsSolutions-IAM5", reason, applies_to=findings)

    def _create_lock_table(self, key: kms.IKey) -> dynamodb.Table:
        return protected_table(
            self, "LockTable", key=key, partition_key="pk", time_to_live_attribute="expires_at"
        )


class RetrainingPipeline(Construct):
    """One model's retraining pipeline.

    Exposes `state_machine`, `training_role`, `model_package_group`, `steps` (the shared
    Lambda steps and lock table), `drift_rule`, `schedule_rule`, `approval_rule` and `abort_rule`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_name: str,
        training_image: str,
        inference_image: str,
        instance_type: str,
        metric_name: str,
        artifact_bucket: s3.IBucket,
        key: kms.IKey,
        notification_topic: sns.ITopic,
        metric_direction: Direction = "maximize",
        metric_margin: float = 0.0,
        metric_regex: str | None = None,
        instance_count: int = 1,
        volume_size_gb: int = 50,
        max_runtime: cdk.Duration = DEFAULT_MAX_RUNTIME,
        max_wait: cdk.Duration = DEFAULT_MAX_WAIT,
        managed_spot: bool = True,
        hyperparameters: Mapping[str, str] | None = None,
        instance_hourly_price: float | None = None,
        feature_schema: Mapping[str, str] | None = None,
        training_set_function: lambda_.IFunction | None = None,
        training_set_request: Mapping[str, Any] | None = None,
        approval: ApprovalMode = "manual",
        approval_timeout: cdk.Duration = DEFAULT_APPROVAL_TIMEOUT,
        endpoint_name: str | None = None,
        variant_name: str | None = None,
        rollback_alarm_names: Sequence[str] = (),
        canary_percent: int = 10,
        canary_wait: cdk.Duration = DEFAULT_CANARY_WAIT,
        on_drift: bool = True,
        drift_event_bus: events.IEventBus | None = None,
        schedule: events.Schedule | None = None,
        steps: RetrainingSteps | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        poll_interval: cdk.Duration = DEFAULT_POLL_INTERVAL,
        capacity_retry_interval: cdk.Duration = DEFAULT_CAPACITY_RETRY_INTERVAL,
        capacity_retry_attempts: int = 3,
        capacity_retry_backoff: float = 2.0,
        baseline_key: str | None = None,
        baseline_excluded_columns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._check_props(
            model_name,
            metric_name,
            metric_direction,
            approval,
            endpoint_name,
            rollback_alarm_names,
            metric_margin,
            training_set_function,
            training_set_request,
        )
        self.model_name = model_name
        self.baseline_key = baseline_key or default_baseline_key(model_name)
        # The label and entity columns are the caller's to name; the event time is known here.
        timestamp = (training_set_request or {}).get("timestamp_column")
        self.baseline_excluded_columns = list(
            dict.fromkeys([*baseline_excluded_columns, *([timestamp] if timestamp else [])])
        )
        self.steps = steps or RetrainingSteps(self, "Steps", key=key, notification_topic=notification_topic)
        self.model_package_group = sagemaker.CfnModelPackageGroup(
            self,
            "ModelPackageGroup",
            model_package_group_name=f"{sanitize_name(model_name)[:50]}-retraining",
            model_package_group_description=f"Retrained versions of {model_name}",
        )
        group_name = self.model_package_group.model_package_group_name
        assert group_name is not None
        subnets = _selected_subnets(vpc, vpc_subnets)
        self.training = SpotTrainingStep(
            self,
            "Training",
            model_name=model_name,
            image_uri=training_image,
            instance_type=instance_type,
            artifact_bucket=artifact_bucket,
            key=key,
            instance_count=instance_count,
            volume_size_gb=volume_size_gb,
            max_runtime=max_runtime,
            max_wait=max_wait,
            managed_spot=managed_spot,
            hyperparameters=hyperparameters,
            metric_definitions=[MetricDefinition(metric_name, metric_regex)] if metric_regex else [],
            subnets=subnets,
            security_groups=security_groups,
            runtime_policy=self.steps.training_runtime_policy(in_vpc=bool(subnets)),
        )
        self.training_role = self.training.role

        # Timeouts: every spot attempt may use its whole wait budget, then approval and deploy.
        attempts = capacity_retry_attempts + 1
        training_budget = int(
            durations.in_seconds(max_wait) if managed_spot else durations.in_seconds(max_runtime)
        )
        retry_seconds = int(durations.in_seconds(capacity_retry_interval))
        approval_seconds = int(durations.in_seconds(approval_timeout))
        run_seconds = attempts * (training_budget + retry_seconds * 8) + approval_seconds + 6 * 3600

        self.run = RetrainingRun(
            model_name=model_name,
            partition=cdk.Aws.PARTITION,
            steps=StepArns(**{field: self.steps.function_arns[step] for field, step in _STEP_FIELDS.items()}),
            artifact_bucket=artifact_bucket.bucket_name,
            training_request=self.training.request,
            model_package_group=group_name,
            metric_name=metric_name,
            metric_direction=metric_direction,
            metric_margin=metric_margin,
            instance_count=instance_count,
            hourly_price=instance_hourly_price,
            inference_image=inference_image,
            approval_mode=approval,
            feature_fingerprint=feature_schema_fingerprint(feature_schema or {}),
            approval_timeout_seconds=approval_seconds,
            lock_ttl_seconds=run_seconds,
            timeout_seconds=run_seconds,
            poll_seconds=int(durations.in_seconds(poll_interval)),
            capacity_retry_interval_seconds=retry_seconds,
            capacity_retry_attempts=capacity_retry_attempts,
            capacity_retry_backoff=capacity_retry_backoff,
            deployment=Deployment(
                endpoint_name=endpoint_name,
                variant_name=variant_name,
                alarm_names=list(rollback_alarm_names),
                canary_percent=canary_percent,
                canary_wait_seconds=int(durations.in_seconds(canary_wait)),
                execution_role_arn=self.training_role.role_arn,
                baseline_key=self.baseline_key,
                excluded_columns=self.baseline_excluded_columns,
            )
            if endpoint_name is not None
            else None,
            training_set=TrainingSet(training_set_function.function_arn, dict(training_set_request or {}))
            if training_set_function is not None
            else None,
            comment=f"Retraining of {model_name}",
        )

        self.log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            encryption_key=key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # The definition is plain data handed over in one piece (lambdas.common.asl explains why);
        # its tokens (ARNs, names) are resolved when the template is written.
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_string(
                json.dumps(definition(self.run), separators=(",", ":"))
            ),
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        invoked = invoked_functions(self.run)
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                # Qualified ARNs too (:*), as aws-cdk-lib's LambdaInvoke grants.
                resources=[*invoked, *(f"{arn}:*" for arn in invoked)],
            )
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sagemaker:CreateTrainingJob", "sagemaker:AddTags", "sagemaker:DescribeTrainingJob"],
                resources=[self.training.job_arn_pattern],
            )
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.training_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        self.steps.authorize(
            training_role=self.training_role,
            artifact_bucket=artifact_bucket,
            model_package_group_name=group_name,
            endpoint_name=endpoint_name,
            state_machine=self.state_machine,
            model_name=model_name if endpoint_name is not None else None,
            baseline_key=self.baseline_key,
        )
        self._acknowledge_state_machine(invoked)

        self.drift_rule: events.Rule | None = None
        if on_drift:
            self.drift_rule = events.Rule(
                self,
                "OnDrift",
                event_bus=drift_event_bus,
                description=f"Retrain {model_name} when drift is detected",
                event_pattern=events.EventPattern(
                    source=[DRIFT_SOURCE], detail_type=[DRIFT_DETAIL_TYPE], detail={"model": [model_name]}
                ),
                targets=[targets.SfnStateMachine(self.state_machine, role=self.steps.events_role)],
            )
        self.schedule_rule: events.Rule | None = None
        if schedule is not None:
            # Pipelines on the same schedule share rules (five targets each), as monitors do.
            self.schedule_rule = self.steps.schedules.add(
                schedule,
                targets.SfnStateMachine(
                    self.state_machine,
                    role=self.steps.events_role,
                    input=events.RuleTargetInput.from_object({"trigger": "schedule", "model": model_name}),
                ),
            )
        self.approval_rule = self.steps.on_package_decision(group_name)
        # An aborted or timed-out execution runs no Catch: clean up after it from outside.
        self.abort_rule = self.steps.on_run_aborted(self.state_machine, model_name)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _check_props(
        model_name: str,
        metric_name: str,
        direction: str,
        approval: str,
        endpoint_name: str | None,
        alarms: Sequence[str],
        margin: float,
        training_set_function: lambda_.IFunction | None,
        training_set_request: Mapping[str, Any] | None,
    ) -> None:
        problems: list[Problem] = []
        if not model_name:
            problems.append(Problem("model_name", "is empty"))
        if not metric_name:
            problems.append(
                Problem("metric_name", "is empty: name the metric that decides whether to deploy")
            )
        if direction not in DIRECTIONS:
            problems.append(Problem("metric_direction", f"'{direction}' is not one of {list(DIRECTIONS)}"))
        if approval not in APPROVAL_MODES:
            problems.append(Problem("approval", f"'{approval}' is not one of {list(APPROVAL_MODES)}"))
        if margin < 0:
            problems.append(Problem("metric_margin", f"{margin} must be >= 0"))
        if endpoint_name is not None and not alarms:
            problems.append(
                Problem(
                    "rollback_alarm_names",
                    "a pipeline that deploys needs at least one alarm for auto-rollback",
                )
            )
        problems += _training_set_problems(training_set_function, training_set_request)
        if problems:
            raise InputError(problems, f"RetrainingPipeline({model_name or '?'})")

    def _acknowledge_state_machine(self, invoked: Sequence[str]) -> None:
        jobs = nag_finding(self, self.training.job_arn_pattern)
        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5",
            "Training jobs are named per run and attempt (training-job/*); X-Ray tracing actions take no "
            "resource ARN (Resource::*).",
            applies_to=["Resource::*", f"Resource::{jobs}"],
        )
        # The exact ARN values of the invoke statements: a function imported from a literal ARN
        # (another stack's, such as the feature store's training-set runner) flattens as itself.
        acknowledge_wildcards(
            self.state_machine.role,
            "Lambda invoke grants cover the function's versions and aliases (:*), which Step Functions "
            "requires for qualified ARNs.",
            resources=[f"{arn}:*" for arn in invoked],
        )

    # ------------------------------------------------------------------ surface
    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let a person or system start a run by hand (`{"model": "<name>"}`)."""
        return self.state_machine.grant_start_execution(grantee)

    def metric_failed(self) -> cdk.aws_cloudwatch.Metric:
        """Runs that ended in failure (training, evaluation, registry or deployment)."""
        return self.state_machine.metric_failed()

    def metric_spot_savings(self) -> cdk.aws_cloudwatch.Metric:
        """Average spot savings (percent) of this model's finished training jobs."""
        return cdk.aws_cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name="SpotSavings",
            dimensions_map={"model": self.model_name, "service": "training"},
            statistic="Average",
            period=durations.days(1),
        )


def _training_set_problems(
    function: lambda_.IFunction | None, request: Mapping[str, Any] | None
) -> list[Problem]:
    if function is None:
        return (
            [Problem("training_set_request", "is set but training_set_function is not")]
            if request is not None
            else []
        )
    if request is None:
        return [
            Problem(
                "training_set_request",
                "is required with training_set_function: entity_source, timestamp_column, requests",
            )
        ]
    problems = [
        Problem(f"training_set_request.{key}", "is required")
        for key in sorted(TRAINING_SET_REQUIRED_KEYS - set(request))
    ]
    for key in sorted(set(request) - TRAINING_SET_REQUIRED_KEYS - TRAINING_SET_OPTIONAL_KEYS):
        reason = (
            "is set by the pipeline: every run writes to its own training-data prefix"
            if key == "output_uri"
            else "is not a key of the training-set start event"
        )
        problems.append(Problem(f"training_set_request.{key}", reason))
    if "requests" in request and not request["requests"]:
        problems.append(Problem("training_set_request.requests", "names no feature group"))
    return problems


def _selected_subnets(vpc: ec2.IVpc | None, selection: ec2.SubnetSelection | None) -> list[ec2.ISubnet]:
    if vpc is None:
        return []
    if selection is None:
        return vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets
    return vpc.select_subnets(
        subnet_type=selection.subnet_type,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
        subnet_filters=selection.subnet_filters,
    ).subnets
