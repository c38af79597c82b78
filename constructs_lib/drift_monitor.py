"""`DriftMonitor`: scheduled data drift and model performance monitoring of one model.

What it builds (see docs/drift.md):
- the drift function (`lambdas.drift.handler`) on an EventBridge schedule, or, with
  ``distributed=True``, a Step Functions state machine: plan the window -> Distributed Map
  over its S3 objects (one partial profile each) -> merge and score;
- a CloudWatch alarm on the model's DriftDetected metric and one on failed runs;
- the drift event (source ``mlplatform.drift``, detail-type ``Model Drift Detected``,
  ``detail.model``) on `event_bus`; `on_drift` adds a rule for it (the retraining pipeline
  listens for the same pattern);
- with `labels_bucket`, the performance function (`lambdas.model_monitoring.handler`) and
  an AUC alarm;
- a dashboard with endpoint latency and errors, drift, per-feature effect and performance.

Every function gets only what it uses: reads of the baseline object, of the data prefix and
of its own results prefix; writes to its results prefix; PutEvents on the bus.

With `shared_functions` (a `MonitoringFunctions` of the stack) the single-process drift check
and the performance check run in the stack's shared functions instead of functions of their
own: the model's targets on the stack's shared schedule rules send its settings in the event,
and the monitor adds its model's grants to the shared roles.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib import durations
from constructs_lib.alarm_actions import notify
from constructs_lib.analysis_layer import AnalysisLayer
from constructs_lib.iam_statements import add_statement
from constructs_lib.monitoring_functions import (
    DRIFT_HANDLER,
    DRIFT_NAMESPACE,
    PERFORMANCE_HANDLER,
    PERFORMANCE_NAMESPACE,
    MonitoringFunctions,
)
from constructs_lib.nag import acknowledge, acknowledge_wildcards, flatten_reference
from constructs_lib.platform_function import POWERTOOLS, PYDANTIC, BundledLayer, PlatformFunction
from constructs_lib.shared_schedules import scheduled_rule
from lambdas.common.monitor_event import MONITOR_KEY

__all__ = ["DRIFT_NAMESPACE", "PERFORMANCE_NAMESPACE", "DriftMonitor", "MonitoringFunctions"]

DRIFT_SOURCE = "mlplatform.drift"
DRIFT_DETAIL_TYPE = "Model Drift Detected"
PARQUET_REQUIREMENTS = ("numpy>=2.2,<3", "pyarrow>=18,<22")
DATA_FORMATS = ("data_capture", "parquet")


class DriftMonitor(Construct):
    """Data drift, prediction drift and performance monitoring of `model_name`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_name: str,
        baseline_bucket: s3.IBucket,
        baseline_key: str,
        data_bucket: s3.IBucket,
        data_prefix: str,
        results_bucket: s3.IBucket,
        results_prefix: str | None = None,
        data_format: str = "data_capture",
        key: kms.IKey | None = None,
        event_bus: events.IEventBus | None = None,
        schedule: events.Schedule | None = None,
        window: cdk.Duration | None = None,
        distributed: bool = False,
        max_concurrency: int = 40,
        tolerated_failure_percentage: float = 5,
        feature_names: Sequence[str] = (),
        monitored_features: Sequence[str] = (),
        drift_config: Mapping[str, Any] | None = None,
        alarm_topic: sns.ITopic | None = None,
        endpoint_name: str | None = None,
        variant_names: Sequence[str] = ("AllTraffic",),
        labels_bucket: s3.IBucket | None = None,
        labels_prefix: str = "",
        auc_alarm_threshold: float | None = 0.7,
        memory_size: int = 2048,
        timeout: cdk.Duration | None = None,
        shared_functions: MonitoringFunctions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if shared_functions is not None and distributed:
            raise ValueError(
                f"{self.node.path}: shared_functions runs the single-process drift check; a distributed "
                "run has its own plan, profile and merge functions (leave shared_functions unset)"
            )
        if data_format not in DATA_FORMATS:
            raise ValueError(
                f"{self.node.path}: data_format must be one of {DATA_FORMATS}, got {data_format!r}"
            )
        if data_format == "parquet" and not distributed:
            raise ValueError(
                f"{self.node.path}: data_format='parquet' needs distributed=True: pyarrow and scipy do not fit "
                "one Lambda function, so Parquet is profiled by the Map workers and scored apart"
            )
        if not 0 <= tolerated_failure_percentage <= 100:
            raise ValueError(f"{self.node.path}: tolerated_failure_percentage must be within [0, 100]")
        self.model_name = model_name
        self.event_bus = event_bus or events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self._key = key
        self.results_bucket = results_bucket
        self.results_prefix = (results_prefix or f"drift/{model_name}").strip("/")
        self._data_prefix = data_prefix.strip("/")
        self._period = window or durations.hours(24)
        environment = {
            "MODEL_NAME": model_name,
            "BASELINE_URI": f"s3://{baseline_bucket.bucket_name}/{baseline_key}",
            "DATA_URI": f"s3://{data_bucket.bucket_name}/{self._data_prefix}/",
            "DATA_FORMAT": data_format,
            "RESULTS_BUCKET": results_bucket.bucket_name,
            "RESULTS_PREFIX": self.results_prefix,
            "EVENT_BUS_NAME": self.event_bus.event_bus_name,
            "WINDOW_HOURS": str(int(self._period.to_hours())),
            "POWERTOOLS_METRICS_NAMESPACE": DRIFT_NAMESPACE,
        }
        if feature_names:
            environment["FEATURE_NAMES"] = ",".join(feature_names)
        if drift_config:
            environment["DRIFT_CONFIG"] = json.dumps(dict(drift_config), sort_keys=True)
        analysis = AnalysisLayer.of(self)

        def function(
            name: str, handler: str, description: str, layers: Sequence[BundledLayer]
        ) -> PlatformFunction:
            return PlatformFunction(
                self,
                name,
                handler=handler,
                domains=["drift"],
                requirements=(POWERTOOLS, PYDANTIC),
                layers=layers,
                environment=environment,
                timeout=timeout or durations.minutes(15),
                memory_size=memory_size,
                description=description,
                key=key,
            )

        self.state_machine: sfn.StateMachine | None = None
        self.functions: list[PlatformFunction] = []
        self._shared = shared_functions
        self._key_grants = shared_functions.key_grants if shared_functions is not None else {}
        if shared_functions is not None:
            shared = shared_functions.drift
            self._grant_data_read(shared.role, data_bucket)
            self._grant_baseline_read(shared.role, baseline_bucket, baseline_key)
            self._grant_results(shared.role)
            self._grant_events(shared.role)
            self.function = shared.function
            target: events.IRuleTarget = targets.LambdaFunction(
                shared.function, event=_model_event(environment), retry_attempts=2
            )
        elif distributed:
            worker_layers: Sequence[BundledLayer] = (
                [
                    BundledLayer(
                        self,
                        "ParquetLayer",
                        requirements=PARQUET_REQUIREMENTS,
                        description="numpy and pyarrow",
                    )
                ]
                if data_format == "parquet"
                else [analysis]
            )
            plan = function(
                "Plan", "lambdas.drift.map_handler.plan", f"Drift window plan of {model_name}", [analysis]
            )
            worker = function(
                "Profile",
                "lambdas.drift.map_handler.profile",
                f"Drift partial profile of {model_name}",
                worker_layers,
            )
            merge = function(
                "Merge",
                "lambdas.drift.map_handler.merge",
                f"Drift merge and score of {model_name}",
                [analysis],
            )
            self.functions = [plan, worker, merge]
            self._grant_data_read(plan.role, data_bucket, list_only=True)
            self._grant_data_read(worker.role, data_bucket)
            for fn in (worker, merge):
                self._grant_baseline_read(fn.role, baseline_bucket, baseline_key)
            for fn in self.functions:
                self._grant_results(fn.role)
            self._grant_events(merge.role)
            self.state_machine = self._state_machine(
                plan, worker, merge, max_concurrency, tolerated_failure_percentage
            )
            self.function = merge.function
            target = targets.SfnStateMachine(self.state_machine, retry_attempts=2)
        else:
            single = function("Drift", DRIFT_HANDLER, f"Scheduled drift check of {model_name}", [analysis])
            self.functions = [single]
            self._grant_data_read(single.role, data_bucket)
            self._grant_baseline_read(single.role, baseline_bucket, baseline_key)
            self._grant_results(single.role)
            self._grant_events(single.role)
            self.function = single.function
            target = targets.LambdaFunction(single.function, retry_attempts=2)
        self.rule = scheduled_rule(
            self,
            "Schedule",
            schedule=schedule or events.Schedule.rate(durations.days(1)),
            target=target,
            description=f"Scheduled drift check of {model_name}",
            shared=shared_functions.schedules if shared_functions is not None else None,
        )

        self.drift_alarm = self.metric_drift_detected().create_alarm(
            self,
            "DriftAlarm",
            alarm_description=f"Data drift detected for model {model_name}; the drift event starts retraining",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failure_alarm = self._failure_metric().create_alarm(
            self,
            "FailureAlarm",
            alarm_description=f"The drift check of {model_name} failed (errors, bad settings or a missing baseline)",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarms = [self.drift_alarm, self.failure_alarm]

        self.performance_function: PlatformFunction | None = None
        self.performance_rule: events.Rule | None = None
        self.auc_alarm: cloudwatch.Alarm | None = None
        if labels_bucket is not None:
            self._performance(
                labels_bucket,
                labels_prefix,
                data_bucket,
                feature_names,
                analysis,
                auc_alarm_threshold,
                timeout,
            )
        if alarm_topic is not None:
            for alarm in self.alarms:
                notify(alarm, alarm_topic)
        self.dashboard = self._dashboard(endpoint_name, variant_names, monitored_features)

    # ------------------------------------------------------------------ public surface
    @property
    def drift_event_pattern(self) -> events.EventPattern:
        """The drift event of this model, as the retraining pipeline matches it."""
        return events.EventPattern(
            source=[DRIFT_SOURCE], detail_type=[DRIFT_DETAIL_TYPE], detail={"model": [self.model_name]}
        )

    def on_drift(self, construct_id: str, target: events.IRuleTarget) -> events.Rule:
        """A rule on the event bus that sends this model's drift events to `target`."""
        return events.Rule(
            self,
            construct_id,
            event_bus=self.event_bus,
            event_pattern=self.drift_event_pattern,
            targets=[target],
            description=f"Drift of {self.model_name}",
        )

    def metric_drift_detected(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        return self._drift_metric("DriftDetected", "Maximum", period)

    def metric_drift_share(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        return self._drift_metric("DriftShare", "Maximum", period)

    def metric_features_drifted(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        return self._drift_metric("FeaturesDrifted", "Maximum", period)

    def metric_feature_effect(self, feature: str, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """The feature's effect size (Wasserstein in baseline sigmas by default) per run."""
        return cloudwatch.Metric(
            namespace=DRIFT_NAMESPACE,
            metric_name="FeatureEffect",
            dimensions_map={"Model": self.model_name, "Feature": feature},
            statistic="Maximum",
            period=period or self._period,
        )

    def metric_performance(
        self, name: str = "AUC", *, period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """AUC, Accuracy, Precision, Recall, LabelCoverage or LabeledPredictions of the model."""
        return cloudwatch.Metric(
            namespace=PERFORMANCE_NAMESPACE,
            metric_name=name,
            dimensions_map={"Model": self.model_name},
            statistic="Minimum",
            period=period or self._period,
        )

    def grant_read_results(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read access to the results and HTML reports of this monitor."""
        return self.results_bucket.grant_read(grantee, f"{self.results_prefix}/*")

    # ------------------------------------------------------------------ pieces
    def _drift_metric(self, name: str, statistic: str, period: cdk.Duration | None) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=DRIFT_NAMESPACE,
            metric_name=name,
            dimensions_map={"Model": self.model_name},
            statistic=statistic,
            period=period or self._period,
        )

    def _failure_metric(self) -> cloudwatch.MathExpression:
        period = durations.hours(1)
        run_errors = self._drift_metric("DriftRunErrors", "Sum", period)
        usage: dict[str, cloudwatch.IMetric] = {"runs": run_errors}
        for index, fn in enumerate(self.functions):
            usage[f"fn{index}"] = fn.function.metric_errors(period=period, statistic="Sum")
        if self.state_machine is not None:
            usage["sfn"] = self.state_machine.metric_failed(period=period, statistic="Sum")
        expression = " + ".join(f"FILL({name}, 0)" for name in usage)
        return cloudwatch.MathExpression(
            expression=expression, using_metrics=usage, period=period, label="Failures"
        )

    def _kms(self, role: iam.IRole, bucket: s3.IBucket, *actions: str) -> None:
        # Monitors sharing a role grant the same key use again and again: once is enough.
        grant = (id(role), id(bucket), actions)
        if grant in self._key_grants:
            return
        self._key_grants[grant] = (role, bucket)  # held, so that the ids stay theirs
        key = bucket.encryption_key
        if key is not None:
            key.grant(role, *actions)

    def _grant_data_read(self, role: iam.IRole, bucket: s3.IBucket, list_only: bool = False) -> None:
        prefix = self._data_prefix
        add_statement(
            role,
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}/*", f"{prefix}/"]}},
            ),
        )
        if list_only:
            return
        objects = bucket.arn_for_objects(f"{prefix}/*")
        add_statement(role, iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]))
        self._kms(role, bucket, "kms:Decrypt")
        acknowledge_wildcards(
            role,
            "Reads the window's captured requests under the data prefix; their keys are dated and unknown in advance.",
            resources=[objects],
        )

    def _grant_baseline_read(self, role: iam.IRole, bucket: s3.IBucket, key: str) -> None:
        add_statement(
            role, iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(key)])
        )
        self._kms(role, bucket, "kms:Decrypt")

    def _grant_results(self, role: iam.IRole) -> None:
        bucket, prefix = self.results_bucket, self.results_prefix
        objects = bucket.arn_for_objects(f"{prefix}/*")
        add_statement(
            role, iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[objects])
        )
        # ListBucket lets a missing result read as NoSuchKey (not AccessDenied): first run of a window
        add_statement(
            role,
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}/*"]}},
            ),
        )
        self._kms(role, bucket, "kms:Decrypt", "kms:GenerateDataKey")
        acknowledge_wildcards(
            role,
            "Writes dated results, reports and run partials under the monitor's own results prefix only.",
            resources=[objects],
        )

    def _grant_events(self, role: iam.IRole) -> None:
        add_statement(
            role, iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.event_bus.event_bus_arn])
        )

    def _state_machine(
        self,
        plan: PlatformFunction,
        worker: PlatformFunction,
        merge: PlatformFunction,
        max_concurrency: int,
        tolerated_failure_percentage: float,
    ) -> sfn.StateMachine:
        plan_task = tasks.LambdaInvoke(
            self, "PlanWindow", lambda_function=plan.function, payload_response_only=True
        )
        profile_task = tasks.LambdaInvoke(
            self, "ProfileObject", lambda_function=worker.function, payload_response_only=True
        )
        profile_task.add_retry(
            errors=["Lambda.TooManyRequestsException", "Lambda.ServiceException"], max_attempts=4
        )
        fan_out = sfn.DistributedMap(
            self,
            "ProfileObjects",
            item_reader=sfn.S3JsonItemReader(
                bucket=self.results_bucket, key=sfn.JsonPath.string_at("$.manifest_key")
            ),
            item_selector={
                "bucket": sfn.JsonPath.string_at("$$.Map.Item.Value.bucket"),
                "key": sfn.JsonPath.string_at("$$.Map.Item.Value.key"),
                "run_id": sfn.JsonPath.string_at("$.run_id"),
            },
            max_concurrency=max_concurrency,
            tolerated_failure_percentage=tolerated_failure_percentage,
            result_path=sfn.JsonPath.DISCARD,  # partials go to S3; the Map's output would overflow 256 KB
        )
        fan_out.item_processor(profile_task)
        merge_task = tasks.LambdaInvoke(
            self, "MergeAndScore", lambda_function=merge.function, payload_response_only=True
        )
        self.state_machine_logs = logs.LogGroup(
            self,
            "StateMachineLogs",
            encryption_key=self._key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(plan_task.next(fan_out).next(merge_task)),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.state_machine_logs, level=sfn.LogLevel.ALL),
            comment=f"Distributed drift check of {self.model_name}",
        )
        # The ItemReader's own grant covers GetObject on the bucket; the manifest is KMS-encrypted.
        if self.results_bucket.encryption_key is not None:
            self.results_bucket.encryption_key.grant_decrypt(machine)
        self._acknowledge_state_machine(machine, [plan.function, worker.function, merge.function])
        return machine

    def _acknowledge_state_machine(
        self, machine: sfn.StateMachine, functions: Sequence[lambda_.IFunction]
    ) -> None:
        stack = cdk.Stack.of(self)
        region = "<AWS::Region>" if cdk.Token.is_unresolved(stack.region) else stack.region
        account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
        reference = stack.resolve(machine.state_machine_arn)  # {"Ref": <logical id>}
        name = json.dumps({"Fn::Select": [6, {"Fn::Split": [":", reference]}]}, separators=(",", ":"))
        # With @aws-cdk/core:enablePartitionLiterals a concrete region gives a literal partition.
        partition = "<AWS::Partition>" if cdk.Token.is_unresolved(stack.partition) else stack.partition
        executions = f"arn:{partition}:states:{region}:{account}:execution:{name}"
        acknowledge(
            machine,
            "AwsSolutions-IAM5",
            "The Distributed Map describes, stops and redrives the child executions of this state machine only.",
            applies_to=[f"Resource::{executions}:*", f"Resource::{executions}/*:*"],
        )
        acknowledge_wildcards(
            machine,
            "aws-cdk-lib's S3JsonItemReader grants GetObject on the results bucket's objects; the map reads "
            "only its run manifest there.",
            resources=[f"arn:{cdk.Aws.PARTITION}:s3:::{self.results_bucket.bucket_name}/*"],
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5",
            "aws-cdk-lib's LambdaInvoke grants invoke on the plan, profile and merge functions and their versions.",
            applies_to=[f"Resource::{flatten_reference(machine, fn.function_arn)}:*" for fn in functions],
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5",
            "Log delivery to CloudWatch Logs and X-Ray tracing actions of Step Functions take no resource ARN.",
            applies_to=["Resource::*"],
        )

    def _performance(
        self,
        labels_bucket: s3.IBucket,
        labels_prefix: str,
        data_bucket: s3.IBucket,
        feature_names: Sequence[str],
        analysis: BundledLayer,
        auc_alarm_threshold: float | None,
        timeout: cdk.Duration | None,
    ) -> None:
        labels = labels_prefix.strip("/")
        prefix = f"performance/{self.model_name}"
        environment = {
            "MODEL_NAME": self.model_name,
            "DATA_URI": f"s3://{data_bucket.bucket_name}/{self._data_prefix}/",
            "LABELS_URI": f"s3://{labels_bucket.bucket_name}/{labels}/",
            "RESULTS_BUCKET": self.results_bucket.bucket_name,
            "RESULTS_PREFIX": prefix,
            "WINDOW_HOURS": str(int(self._period.to_hours())),
            "POWERTOOLS_METRICS_NAMESPACE": PERFORMANCE_NAMESPACE,
        }
        if feature_names:
            environment["FEATURE_NAMES"] = ",".join(feature_names)
        if self._shared is not None:
            fn = self._shared.performance
            event: events.RuleTargetInput | None = _model_event(environment)
        else:
            fn = PlatformFunction(
                self,
                "Performance",
                handler=PERFORMANCE_HANDLER,
                domains=["model_monitoring", "drift"],
                layers=[analysis],
                environment=environment,
                timeout=timeout or durations.minutes(15),
                memory_size=1024,
                description=f"Model performance of {self.model_name} from ground-truth labels",
                key=self._key,
            )
            event = None
        self.performance_function = fn
        self._grant_data_read(fn.role, data_bucket)
        label_objects = labels_bucket.arn_for_objects(f"{labels}/*")
        add_statement(
            fn.role,
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[labels_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{labels}/*"]}},
            ),
        )
        add_statement(fn.role, iam.PolicyStatement(actions=["s3:GetObject"], resources=[label_objects]))
        self._kms(fn.role, labels_bucket, "kms:Decrypt")
        results = self.results_bucket.arn_for_objects(f"{prefix}/*")
        add_statement(fn.role, iam.PolicyStatement(actions=["s3:PutObject"], resources=[results]))
        self._kms(fn.role, self.results_bucket, "kms:GenerateDataKey")
        acknowledge_wildcards(
            fn.role,
            "Reads dated ground-truth label files and writes dated performance results under fixed prefixes only.",
            resources=[label_objects, results],
        )
        self.performance_rule = scheduled_rule(
            self,
            "PerformanceSchedule",
            schedule=events.Schedule.rate(durations.days(1)),
            target=targets.LambdaFunction(fn.function, event=event, retry_attempts=2),
            description=f"Daily performance check of {self.model_name}",
            shared=self._shared.schedules if self._shared is not None else None,
        )
        if auc_alarm_threshold is not None:
            self.auc_alarm = self.metric_performance("AUC").create_alarm(
                self,
                "AucAlarm",
                alarm_description=f"AUC of {self.model_name} on labelled traffic fell below {auc_alarm_threshold}",
                threshold=auc_alarm_threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            self.alarms.append(self.auc_alarm)

    def _dashboard(
        self, endpoint_name: str | None, variant_names: Sequence[str], monitored_features: Sequence[str]
    ) -> cloudwatch.Dashboard:
        widgets: list[cloudwatch.IWidget] = []
        if endpoint_name:
            latency, errors = [], []
            for variant in variant_names:
                dims = {"EndpointName": endpoint_name, "VariantName": variant}
                for stat in ("p50", "p99"):
                    latency.append(
                        cloudwatch.Metric(
                            namespace="AWS/SageMaker",
                            metric_name="ModelLatency",
                            dimensions_map=dims,
                            statistic=stat,
                            label=f"{variant} {stat} (microseconds)",
                        )
                    )
                for name in ("Invocation4XXErrors", "Invocation5XXErrors"):
                    errors.append(
                        cloudwatch.Metric(
                            namespace="AWS/SageMaker", metric_name=name, dimensions_map=dims, statistic="Sum"
                        )
                    )
            widgets.append(cloudwatch.GraphWidget(title="Model latency", left=latency, width=12))
            widgets.append(cloudwatch.GraphWidget(title="Invocation errors", left=errors, width=12))
        widgets.append(
            cloudwatch.GraphWidget(
                title="Drift",
                left=[self.metric_drift_share()],
                right=[self.metric_features_drifted()],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=1, label="drift detected")],
                width=12,
            )
        )
        if monitored_features:
            widgets.append(
                cloudwatch.GraphWidget(
                    title="Feature effect sizes",
                    left=[self.metric_feature_effect(f) for f in monitored_features],
                    width=12,
                )
            )
        if self.performance_function is not None:
            widgets.append(
                cloudwatch.GraphWidget(
                    title="Performance on labelled traffic",
                    left=[self.metric_performance(n) for n in ("AUC", "Accuracy", "Precision", "Recall")],
                    right=[self.metric_performance("LabelCoverage")],
                    width=12,
                )
            )
        widgets.append(cloudwatch.AlarmStatusWidget(alarms=self.alarms, title="Alarms", width=12))
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=None)
        for i in range(0, len(widgets), 2):
            dashboard.add_widgets(*widgets[i : i + 2])
        return dashboard


def _model_event(settings: Mapping[str, str]) -> events.RuleTargetInput:
    """A shared function's scheduled event: the schedule's time and the model's settings."""
    model_settings = {k: v for k, v in settings.items() if not k.startswith("POWERTOOLS_")}
    return events.RuleTargetInput.from_object({"time": events.EventField.time, MONITOR_KEY: model_settings})
