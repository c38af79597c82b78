"""`StreamingFeaturePipeline`: Kinesis events -> windowed features in the feature store.

One pipeline per event source: an on-demand Kinesis stream encrypted with the given key
(or an existing stream), a consumer function (``lambdas.feature_pipelines.stream_handler``)
reading it through an event source mapping that reports partial failures, bisects a
failing batch, bounds retries and record age and sends what it finally gives up on to an
encrypted SQS queue, the same queue the consumer sends malformed and late records to with
their reason. Window state lives in a retained, point-in-time-recoverable, KMS-encrypted
DynamoDB table. Features are written with the feature store's ``put_records``.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib import durations
from constructs_lib.iam_statements import add_statement
from constructs_lib.nag import acknowledge, flatten_reference
from constructs_lib.platform_function import POWERTOOLS, PYDANTIC, PlatformFunction
from constructs_lib.protected_table import protected_table
from lambdas.feature_pipelines import settings as env
from lambdas.feature_pipelines.stream_records import check_group
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec
from lambdas.feature_store.offline_layout import group_prefix
from lambdas.feature_store.registry import FeatureGroup

METRICS_NAMESPACE = "MLPlatform/FeaturePipelines"
PYARROW = "pyarrow>=15,<25"


KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")


def grant_key_use(key: kms.IKey, grantee: iam.IGrantable) -> iam.Grant:
    """Encrypt and decrypt with `key`, without the wildcard actions of ``grant_encrypt_decrypt``."""
    return key.grant(grantee, *KEY_ACTIONS)


def object_wildcard_finding(bucket: s3.IBucket, key_pattern: str) -> str:
    """The cdk-nag IAM5 finding id of ``bucket.arn_for_objects(key_pattern)``."""
    return f"Resource::{flatten_reference(bucket, bucket.arn_for_objects(key_pattern))}"


class StreamingFeaturePipeline(Construct):
    """Windowed streaming features for one feature group.

    `spec` declares the windows; `feature_group` is the group they are written to (checked
    at synth time: every windowed feature must fit it). The feature store's resources are
    passed in: its online table, offline bucket and prefix, and the Glue database that
    holds the group definitions.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: StreamingFeatureSpec,
        feature_group: FeatureGroup,
        key: kms.IKey,
        online_table: dynamodb.ITable,
        offline_bucket: s3.IBucket,
        glue_database_name: str,
        offline_prefix: str = "offline",
        stream: kinesis.IStream | None = None,
        stream_retention: cdk.Duration | None = None,
        enhanced_fan_out: bool = False,
        batch_size: int = 500,
        max_batching_window: cdk.Duration | None = None,
        parallelization_factor: int = 1,
        retry_attempts: int = 5,
        max_record_age: cdk.Duration | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        memory_size: int = 1024,
        timeout: cdk.Duration | None = None,
        reserved_concurrent_executions: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_group(spec, feature_group)
        if spec.feature_group != feature_group.name:
            raise ValueError(
                f"{self.node.path}: spec is for '{spec.feature_group}', group is '{feature_group.name}'"
            )
        self.spec = spec
        self.key = key

        self.stream: kinesis.IStream = stream or kinesis.Stream(
            self,
            "Stream",
            stream_mode=kinesis.StreamMode.ON_DEMAND,
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=key,
            retention_period=stream_retention or durations.hours(24),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if isinstance(self.stream, kinesis.Stream):
            acknowledge(
                self.stream,
                "AwsSolutions-KDS3",
                "Platform policy: data stores use the customer-managed key (rotation and key policy under our control).",
            )
        self.failure_queue = sqs.Queue(
            self,
            "Failures",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=durations.days(14),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.failure_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the failure destination of the stream consumer; it has no further DLQ.",
        )
        self.state_table = protected_table(
            self, "WindowState", key=key, partition_key="pk", time_to_live_attribute="ttl"
        )

        self.consumer = PlatformFunction(
            self,
            "Consumer",
            handler="lambdas.feature_pipelines.stream_handler.handler",
            domains=["feature_pipelines", "feature_store"],
            requirements=[POWERTOOLS, PYDANTIC, PYARROW],
            environment={
                env.ENV_SPEC: spec.model_dump_json(),
                env.ENV_STATE_TABLE: self.state_table.table_name,
                env.ENV_FAILURE_QUEUE: self.failure_queue.queue_url,
                env.ENV_FEATURE_TABLE: online_table.table_name,
                env.ENV_OFFLINE_BUCKET: offline_bucket.bucket_name,
                env.ENV_OFFLINE_PREFIX: offline_prefix,
                env.ENV_GLUE_DATABASE: glue_database_name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            timeout=timeout or durations.seconds(60),
            memory_size=memory_size,
            description=f"Windowed streaming features of feature group {spec.feature_group}",
            key=key,
            reserved_concurrent_executions=reserved_concurrent_executions,
        )
        self.function: lambda_.Function = self.consumer.function
        self._grant_consumer(feature_group, online_table, offline_bucket, offline_prefix, glue_database_name)

        common: dict[str, Any] = {
            "starting_position": starting_position,
            "batch_size": batch_size,
            "max_batching_window": max_batching_window or durations.seconds(1),
            "bisect_batch_on_error": True,
            "retry_attempts": retry_attempts,
            "max_record_age": max_record_age or durations.hours(1),
            "parallelization_factor": parallelization_factor,
            "report_batch_item_failures": True,
            "on_failure": sources.SqsDlq(self.failure_queue),
        }
        self.stream_consumer: kinesis.StreamConsumer | None = None
        if enhanced_fan_out:
            self.stream_consumer = kinesis.StreamConsumer(
                self,
                "FanOut",
                stream=self.stream,
                stream_consumer_name=f"{spec.feature_group}-features",
            )
            self.function.add_event_source(sources.KinesisConsumerEventSource(self.stream_consumer, **common))
        else:
            self.function.add_event_source(sources.KinesisEventSource(self.stream, **common))
        acknowledge(
            self.consumer.role,
            "AwsSolutions-IAM5",
            "The event source mapping's SQS failure destination is granted by aws-cdk-lib (Queue.grantSendMessages), "
            "which adds these KMS actions on the queue's key only.",
            applies_to=["Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"],
        )

    def _grant_consumer(
        self,
        group: FeatureGroup,
        online_table: dynamodb.ITable,
        offline_bucket: s3.IBucket,
        offline_prefix: str,
        glue_database_name: str,
    ) -> None:
        role = self.consumer.role
        self.state_table.grant(role, "dynamodb:GetItem", "dynamodb:PutItem")
        online_table.grant(role, "dynamodb:PutItem")
        add_statement(
            role, iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.failure_queue.queue_arn])
        )
        grant_key_use(self.key, role)
        if online_table.encryption_key is not None:
            grant_key_use(online_table.encryption_key, role)
        if offline_bucket.encryption_key is not None:
            grant_key_use(offline_bucket.encryption_key, role)
        prefix = group_prefix(offline_prefix, group.name)
        add_statement(
            role,
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[offline_bucket.arn_for_objects(f"{prefix}/*")],
            ),
        )
        stack = cdk.Stack.of(self)
        add_statement(
            role,
            iam.PolicyStatement(
                actions=["glue:GetTable"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=glue_database_name),
                    stack.format_arn(
                        service="glue", resource="table", resource_name=f"{glue_database_name}/{group.name}"
                    ),
                ],
            ),
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "The consumer writes offline files only under its own feature group's prefix; file names are content hashes.",
            applies_to=[
                f"Resource::<{cdk.Stack.of(self).get_logical_id(offline_bucket.node.default_child)}.Arn>/{prefix}/*"
            ]
            if isinstance(offline_bucket.node.default_child, cdk.CfnElement)
            else [],
        )

    def grant_put_records(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let a producer write events to the stream and encrypt them with the stream's key."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "kinesis:PutRecord",
                "kinesis:PutRecords",
                "kinesis:ListShards",
                "kinesis:DescribeStreamSummary",
            ],
            resource_arns=[self.stream.stream_arn],
        )
        key = self.stream.encryption_key
        return grant.combine(key.grant(grantee, "kms:GenerateDataKey")) if key is not None else grant

    def metric_iterator_age(self, **props: object) -> cloudwatch.Metric:
        """Maximum age of the last record the consumer read: how far behind the stream it runs."""
        return self.function.metric("IteratorAge", statistic="Maximum", **props)  # type: ignore[arg-type]

    def metric_events(self, outcome: str, **props: object) -> cloudwatch.Metric:
        """Events per outcome (accepted, duplicate, late, future, beyond_dedupe_horizon)."""
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=f"Events_{outcome}",
            dimensions_map={"service": "feature_pipelines"},
            statistic="Sum",
            **props,  # type: ignore[arg-type]
        )

    def metric_malformed_records(self, **props: object) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name="RecordsMalformed",
            dimensions_map={"service": "feature_pipelines"},
            statistic="Sum",
            **props,  # type: ignore[arg-type]
        )
