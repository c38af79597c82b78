"""`CostMonitor`: the scheduled runtime cost function and what it may read and write."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import durations
from constructs_lib.iam_statements import add_statement
from constructs_lib.nag import acknowledge, acknowledge_wildcards, flatten_reference
from constructs_lib.platform_function import PlatformFunction

METRICS_NAMESPACE = "MLPlatform/Cost"
HANDLER = "lambdas.cost.runtime_handler.handler"


class CostMonitor(Construct):
    """Runs `lambdas.cost.runtime_handler` on a schedule; writes JSON reports to `report_bucket`.

    The function reads SageMaker endpoints, endpoint configs, tags and finished training
    jobs, CloudWatch statistics, and writes only under `report_prefix/` of the bucket.
    Endpoints tagged `latency_slo_tag` (milliseconds) are kept under that SLO when right-sizing.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        report_bucket: s3.IBucket,
        report_key: kms.IKey | None = None,
        key: kms.IKey | None = None,
        schedule: events.Schedule | None = None,
        window: cdk.Duration | None = None,
        report_prefix: str = "cost-reports",
        endpoint_name_prefix: str = "",
        default_latency_slo: cdk.Duration | None = None,
        latency_slo_tag: str = "mlplatform:latency-slo-ms",
        analysed_buckets: Sequence[s3.IBucket] = (),
        assumed_cold_fraction: float = 0.5,
        memory_size: int = 512,
        timeout: cdk.Duration | None = None,
        reserved_concurrent_executions: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 0 <= assumed_cold_fraction <= 1:
            raise ValueError(f"{self.node.path}: assumed_cold_fraction must be within [0, 1]")
        prefix = report_prefix.strip("/")
        window_hours = (window or durations.days(7)).to_hours()
        environment = {
            "REPORT_BUCKET": report_bucket.bucket_name,
            "REPORT_PREFIX": prefix,
            "WINDOW_HOURS": str(window_hours),
            "LATENCY_SLO_TAG": latency_slo_tag,
            "ASSUMED_COLD_FRACTION": str(assumed_cold_fraction),
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }
        if endpoint_name_prefix:
            environment["ENDPOINT_NAME_PREFIX"] = endpoint_name_prefix
        if default_latency_slo is not None:
            environment["DEFAULT_LATENCY_SLO_MS"] = str(default_latency_slo.to_milliseconds())
        if analysed_buckets:
            environment["BUCKETS_TO_ANALYSE"] = ",".join(b.bucket_name for b in analysed_buckets)

        self.handler = PlatformFunction(
            self,
            "Runtime",
            handler=HANDLER,
            domains=["cost"],
            environment=environment,
            timeout=timeout or durations.minutes(5),
            memory_size=memory_size,
            description="Runtime cost report: cost per inference, right-sizing, spot and storage savings",
            key=key,
            # Off by default: accounts whose concurrency limit is 10 cannot reserve any.
            reserved_concurrent_executions=reserved_concurrent_executions,
        )
        self.function = self.handler.function
        self.role = self.handler.role
        self._grant_reads(self.role)
        add_statement(
            self.role,
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[report_bucket.arn_for_objects(f"{prefix}/*")]
            ),
        )
        if report_key is not None:
            # SSE-KMS on PutObject needs a data key from the bucket's key
            add_statement(
                self.role,
                iam.PolicyStatement(actions=["kms:GenerateDataKey"], resources=[report_key.key_arn]),
            )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5",
            "Reports are written as new dated objects under the report prefix only; their keys are not known in advance.",
            applies_to=[_object_arn_finding(self, report_bucket, prefix)],
        )

        self.rule = events.Rule(
            self,
            "Schedule",
            schedule=schedule or events.Schedule.rate(durations.days(1)),
            targets=[targets.LambdaFunction(self.function, retry_attempts=2)],
            description="Daily runtime cost report",
        )

    def _grant_reads(self, role: iam.IRole) -> None:
        stack = cdk.Stack.of(self)

        def arn(resource: str) -> str:
            return stack.format_arn(service="sagemaker", resource=resource, resource_name="*")

        add_statement(
            role,
            iam.PolicyStatement(
                actions=["sagemaker:DescribeEndpoint", "sagemaker:ListTags"], resources=[arn("endpoint")]
            ),
        )
        add_statement(
            role,
            iam.PolicyStatement(
                actions=["sagemaker:DescribeEndpointConfig"], resources=[arn("endpoint-config")]
            ),
        )
        add_statement(
            role,
            iam.PolicyStatement(actions=["sagemaker:DescribeTrainingJob"], resources=[arn("training-job")]),
        )
        # List and metric-read actions accept no resource ARN.
        add_statement(
            role,
            iam.PolicyStatement(
                actions=[
                    "sagemaker:ListEndpoints",
                    "sagemaker:ListTrainingJobs",
                    "cloudwatch:GetMetricStatistics",
                ],
                resources=["*"],
            ),
        )
        acknowledge_wildcards(
            role,
            "The cost report describes every endpoint, endpoint config and finished training job in the account.",
            resources=[arn("endpoint"), arn("endpoint-config"), arn("training-job")],
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "sagemaker:ListEndpoints, sagemaker:ListTrainingJobs and cloudwatch:GetMetricStatistics have no resource-level permissions.",
            applies_to=["Resource::*"],
        )

    def metric_rightsizing_saving(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        return self._metric("RightSizingMonthlySaving", period)

    def metric_endpoint_monthly_cost(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        return self._metric("EndpointMonthlyCost", period)

    def metric_cost_per_thousand_inferences(
        self, endpoint_name: str, variant_name: str = "AllTraffic", *, period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name="CostPerThousandInferences",
            dimensions_map={"EndpointName": endpoint_name, "VariantName": variant_name},
            statistic="Average",
            period=period or durations.days(1),
        )

    def _metric(self, name: str, period: cdk.Duration | None) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": "cost"},
            statistic="Maximum",
            period=period or durations.days(1),
        )


def _object_arn_finding(scope: Construct, bucket: s3.IBucket, prefix: str) -> str:
    """The IAM5 finding id cdk-nag reports for `<bucket arn>/<prefix>/*`."""
    return f"Resource::{flatten_reference(scope, bucket.arn_for_objects(f'{prefix}/*'))}"
