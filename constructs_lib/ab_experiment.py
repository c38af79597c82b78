"""`AbExperiment`: the scheduled analysis of one A/B test on one SageMaker endpoint.

An EventBridge schedule invokes the analysis function with the experiment's definition; the
function reads outcome summaries from the outcomes bucket and the endpoint's per-variant
CloudWatch metrics, writes a JSON result and an HTML report to the results bucket, records
every decision in a decisions table and, only when ``auto_shift`` is on, moves traffic
between the endpoint's variants. The function may describe and re-weight that one endpoint
and nothing else.

With `shared_analysis` (an `ExperimentAnalysis` of the stack) the experiment runs in the
stack's shared analysis function and decisions table instead of its own: its schedule also
sends where its outcomes and results live, it adds its endpoint to the endpoints the function
may analyse and its own grants to the shared role.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct
from pydantic import ValidationError

from constructs_lib import durations
from constructs_lib.analysis_layer import AnalysisLayer
from constructs_lib.iam_statements import add_statement
from constructs_lib.nag import acknowledge, acknowledge_wildcards
from constructs_lib.platform_function import PlatformFunction
from constructs_lib.protected_table import protected_table
from constructs_lib.shared_schedules import SharedSchedules, scheduled_rule
from lambdas.ab_analysis.event import ExperimentConfig
from lambdas.common.monitor_event import MONITOR_KEY

METRICS_NAMESPACE = "MLPlatform/ABTesting"
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


def cadence_from_rate(expression: str) -> cdk.Duration:
    """The look interval of an EventBridge ``rate(...)`` expression, e.g. ``rate(1 hour)``.

    The analysis floors each scheduled time to this interval to name its window, so only
    rate expressions (not cron) describe a schedule it can analyse.
    """
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(
            f"schedule {expression!r}: use a rate expression such as 'rate(1 hour)' or 'rate(30 minutes)'"
        )
    value, unit = int(match.group(1)), match.group(2)
    if unit.startswith("minute"):
        return durations.minutes(value)
    if unit.startswith("hour"):
        return durations.hours(value)
    return durations.days(value)


@dataclass(frozen=True)
class ExperimentMetric:
    """A metric read from the outcome summaries (format in docs/ab-testing.md)."""

    name: str
    type: Literal["mean", "proportion", "ratio"]
    guardrail: bool = False
    margin: float = 0.0
    margin_type: Literal["relative", "absolute"] = "relative"
    higher_is_better: bool = True
    primary: bool = False
    mde: float | None = None


def _decisions_table(scope: Construct, key: kms.IKey) -> dynamodb.Table:
    return protected_table(scope, "Decisions", key=key, partition_key="experiment_id", sort_key="window")


def _analysis_function(
    scope: Construct, key: kms.IKey, environment: dict[str, str], description: str
) -> PlatformFunction:
    return PlatformFunction(
        scope,
        "Analysis",
        handler="lambdas.ab_analysis.handler.handler",
        domains=["ab_analysis"],
        layers=[AnalysisLayer.of(scope)],
        environment=environment,
        timeout=durations.minutes(5),
        memory_size=1024,
        key=key,
        # One look at a time: two concurrent looks would race for the same window.
        reserved_concurrent_executions=1,
        description=description,
    )


def _grant_metrics_and_key(scope: Construct, role: iam.IRole, keys: Sequence[kms.IKey]) -> None:
    for k in {id(k): k for k in keys}.values():
        k.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
    # GetMetricData has no resource-level permissions; it is in a policy of its own.
    metrics_policy = iam.Policy(
        scope,
        "MetricsPolicy",
        statements=[iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"])],
    )
    metrics_policy.attach_to_role(role)
    acknowledge(
        metrics_policy,
        "AwsSolutions-IAM5",
        "cloudwatch:GetMetricData supports no resource-level permissions (service authorization reference).",
        applies_to=["Resource::*"],
    )


class ExperimentAnalysis(Construct):
    """The analysis function and decisions table that the `AbExperiment`s of a stack share.

    Looks still run one at a time (reserved concurrency 1): a look takes seconds, and the
    schedules' events wait in Lambda's queue for their turn. Exposes `analysis`, `function`,
    `table` and `schedules` (the experiments on one cadence share rules, five targets each);
    each experiment adds its endpoint to ENDPOINT_NAMES and its grants to the role.
    """

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.table = _decisions_table(self, key)
        #: The experiments' looks: rules shared by the experiments on the same cadence.
        self.schedules = SharedSchedules(
            self, "Schedules", description="Scheduled looks at this stack's experiments"
        )
        self.endpoint_names: list[str] = []
        self.analysis = _analysis_function(
            self,
            key,
            {"DECISIONS_TABLE": self.table.table_name},
            "A/B analysis of this stack's experiments (each event names its experiment)",
        )
        self.function = self.analysis.function
        add_statement(
            self.analysis.role,
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[self.table.table_arn],
            ),
        )
        _grant_metrics_and_key(self, self.analysis.role, [key])

    def add_endpoint(self, endpoint_name: str) -> None:
        """Let the function analyse (and, if granted, re-weight) `endpoint_name`."""
        if endpoint_name not in self.endpoint_names:
            self.endpoint_names.append(endpoint_name)
            self.function.add_environment("ENDPOINT_NAMES", ",".join(self.endpoint_names))


class AbExperiment(Construct):
    """Scheduled analysis, decision log and (optional) traffic shifting for one experiment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        experiment_id: str,
        endpoint_name: str,
        control_variant: str,
        start_time: str,
        metrics: Sequence[ExperimentMetric],
        results_bucket: s3.IBucket,
        outcomes_bucket: s3.IBucket,
        key: kms.IKey,
        decisions_table: dynamodb.ITable | None = None,
        shared_analysis: ExperimentAnalysis | None = None,
        cadence: cdk.Duration | None = None,
        alpha: float = 0.05,
        sequential: bool = True,
        correction: Literal["holm", "bh", "none"] = "holm",
        planned_sample: int | None = None,
        power: float = 0.8,
        ramp: Sequence[float] = (10, 50, 100),
        auto_shift: bool = False,
        endpoint_guardrails: bool = True,
        latency_margin: float = 0.10,
        error_rate_margin: float = 0.005,
        results_prefix: str = "ab-results/",
        outcomes_prefix: str = "ab-outcomes/",
    ) -> None:
        super().__init__(scope, construct_id)
        cadence = cadence or durations.hours(1)
        self.experiment_id = experiment_id
        self.endpoint_name = endpoint_name
        self.experiment = self._validated(
            experiment_id=experiment_id,
            endpoint_name=endpoint_name,
            control=control_variant,
            start_time=start_time,
            metrics=[{k: v for k, v in asdict(m).items() if v is not None} for m in metrics],
            alpha=alpha,
            sequential=sequential,
            correction=correction,
            planned_sample=planned_sample,
            power=power,
            ramp=list(ramp),
            auto_shift=auto_shift,
            cadence_minutes=int(cadence.to_minutes()),
            endpoint_guardrails=endpoint_guardrails,
            latency_margin=latency_margin,
            error_rate_margin=error_rate_margin,
        )

        self._shared = shared_analysis
        if shared_analysis is not None:
            if decisions_table is not None:
                raise ValueError(
                    f"{self.node.path}: with shared_analysis the decisions table is the shared one "
                    "(leave decisions_table unset)"
                )
            self.table: dynamodb.ITable = shared_analysis.table
            self.analysis = shared_analysis.analysis
            shared_analysis.add_endpoint(endpoint_name)
            locations: dict[str, str] | None = {
                "RESULTS_BUCKET": results_bucket.bucket_name,
                "RESULTS_PREFIX": results_prefix,
                "OUTCOMES_BUCKET": outcomes_bucket.bucket_name,
                "OUTCOMES_PREFIX": outcomes_prefix,
            }
        else:
            self.table = decisions_table or _decisions_table(self, key)
            self.analysis = _analysis_function(
                self,
                key,
                {
                    "DECISIONS_TABLE": self.table.table_name,
                    "RESULTS_BUCKET": results_bucket.bucket_name,
                    "RESULTS_PREFIX": results_prefix,
                    "OUTCOMES_BUCKET": outcomes_bucket.bucket_name,
                    "OUTCOMES_PREFIX": outcomes_prefix,
                    "ENDPOINT_NAME": endpoint_name,
                },
                f"A/B analysis of experiment {experiment_id} on endpoint {endpoint_name}",
            )
            locations = None
        self.function = self.analysis.function
        self._grant(results_bucket, outcomes_bucket, key, results_prefix, outcomes_prefix)

        target = targets.LambdaFunction(
            self.function,
            event=events.RuleTargetInput.from_object(
                {
                    "time": events.EventField.time,
                    "experiment": self.experiment.model_dump(mode="json"),
                    **({MONITOR_KEY: locations} if locations else {}),
                }
            ),
            retry_attempts=2,
            max_event_age=durations.minutes(30),
        )
        self.rule = scheduled_rule(
            self,
            "Schedule",
            schedule=events.Schedule.rate(cadence),
            target=target,
            description=f"Scheduled look at A/B experiment {experiment_id}",
            shared=shared_analysis.schedules if shared_analysis is not None else None,
        )

    @staticmethod
    def _validated(**values: Any) -> ExperimentConfig:
        try:
            return ExperimentConfig.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'experiment'}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"AbExperiment {values.get('experiment_id')!r}: {problems}") from exc

    def _endpoint_arn(self) -> str:
        # SageMaker ARNs carry the endpoint name in lower case.
        return cdk.Stack.of(self).format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name.lower()
        )

    def _grant(
        self,
        results_bucket: s3.IBucket,
        outcomes_bucket: s3.IBucket,
        key: kms.IKey,
        results_prefix: str,
        outcomes_prefix: str,
    ) -> None:
        role = self.analysis.role
        outcomes = outcomes_bucket.arn_for_objects(f"{outcomes_prefix}{self.experiment_id}/*")
        results = results_bucket.arn_for_objects(f"{results_prefix}{self.experiment_id}/*")
        endpoint_actions = ["sagemaker:DescribeEndpoint"]
        if self.experiment.auto_shift:
            endpoint_actions.append("sagemaker:UpdateEndpointWeightsAndCapacities")
        statements = [
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[outcomes]),
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[outcomes_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{outcomes_prefix}{self.experiment_id}/*"]}},
            ),
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[results]),
            iam.PolicyStatement(actions=endpoint_actions, resources=[self._endpoint_arn()]),
        ]
        reason = (
            "Objects under this experiment's own prefix: outcome summaries are read and results written "
            "per window, with keys unknown at deploy time."
        )
        bucket_keys = [k for k in (outcomes_bucket.encryption_key, results_bucket.encryption_key) if k]
        if self._shared is not None:
            # The shared role's default policy, which aws-cdk-lib merges and splits as it grows.
            for statement in statements:
                add_statement(role, statement)
            for k in {id(k): k for k in bucket_keys if k is not self._shared.key}.values():
                k.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
            acknowledge_wildcards(role, reason, resources=[outcomes, results])
            return
        statements.insert(
            3,
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[self.table.table_arn],
            ),
        )
        policy = iam.Policy(self, "AnalysisPolicy", statements=statements)
        policy.attach_to_role(role)
        acknowledge_wildcards(policy, reason, resources=[outcomes, results])
        _grant_metrics_and_key(self, role, [key, *bucket_keys])

    def grant_read_decisions(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read the decision log (e.g. for a dashboard or an approval workflow)."""
        return self.table.grant(grantee, "dynamodb:GetItem", "dynamodb:Query")

    def metric_decisions(
        self, action: Literal["continue", "ship", "rollback"], **props: Any
    ) -> cloudwatch.Metric:
        """Count of looks that ended in ``action``, as emitted by the analysis function."""
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=f"Decision{action.capitalize()}",
            dimensions_map={"service": "ab_analysis", "experiment_id": self.experiment_id},
            statistic="Sum",
            **props,
        )

    def metric_sample_ratio_mismatch(self, **props: Any) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name="SampleRatioMismatch",
            dimensions_map={"service": "ab_analysis", "experiment_id": self.experiment_id},
            statistic="Sum",
            **props,
        )
