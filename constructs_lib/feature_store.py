"""`FeatureStore`: DynamoDB online store, S3/Glue offline store, registry, ingestion.

- Online: one table, one item per (group, entity) holding all of the group's features in
  one encoded attribute (see ``lambdas.feature_store.online_item``); on-demand, PITR,
  customer-managed key, deletion protection, TTL attribute for garbage collection only.
- Offline: Parquet in a ``SecureBucket`` under ``<prefix>/feature_group=<g>/event_date=…``,
  one Glue table per group with partition projection on ``event_date`` (no crawlers),
  lifecycle transitions to cheaper storage classes.
- Registry: each group's definition is a parameter of its Glue table, which is where the
  runtime (``GlueRegistry``) reads it: Athena and the runtime cannot disagree.
- Ingestion: SQS queue → function (partial batch failures, idempotency table) with a DLQ
  and an alarm on its depth.
- Training sets: an Athena workgroup with KMS-encrypted results and a function that runs
  point-in-time queries for the retraining pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib import durations
from constructs_lib.alarm_actions import notify
from constructs_lib.nag import acknowledge, acknowledge_wildcards
from constructs_lib.platform_function import POWERTOOLS, PYDANTIC, PlatformFunction
from constructs_lib.protected_table import protected_table
from constructs_lib.secure_bucket import SecureBucket
from lambdas.feature_store import metric_names as mn
from lambdas.feature_store import offline_layout as layout
from lambdas.feature_store import online_item
from lambdas.feature_store import settings as env
from lambdas.feature_store.registry import FeatureGroup

PYARROW = "pyarrow>=15,<27"
ATHENA_RESULTS_PREFIX = "athena-results"
DEFAULT_INFREQUENT_ACCESS_AFTER = durations.days(30)
DEFAULT_GLACIER_AFTER = durations.days(180)
ONE_MINUTE = durations.minutes(1)
FIVE_MINUTES = durations.minutes(5)


class FeatureStore(Construct):
    """Online and offline feature storage for a list of feature groups."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        feature_groups: Sequence[FeatureGroup],
        key: kms.IKey,
        glue_database_name: str = "feature_store",
        offline_prefix: str = "offline",
        infrequent_access_after: cdk.Duration = DEFAULT_INFREQUENT_ACCESS_AFTER,
        glacier_after: cdk.Duration | None = DEFAULT_GLACIER_AFTER,
        expire_after: cdk.Duration | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        alarm_topic: sns.ITopic | None = None,
        ingestion_batch_size: int = 10,
        max_receive_count: int = 5,
        ingestion_memory_size: int = 1024,
        ingestion_reserved_concurrency: int | None = None,
        training_set_function_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        names = [g.name for g in feature_groups]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.node.path}: feature group names must be unique, got {names}")
        self.feature_groups = tuple(feature_groups)
        self.key = key
        self.offline_prefix = offline_prefix.strip("/")
        self.glue_database_name = glue_database_name
        if not 1 <= ingestion_batch_size <= 10_000:
            raise ValueError(
                f"{self.node.path}: ingestion_batch_size must be 1..10000, got {ingestion_batch_size}"
            )
        self._batch_size = ingestion_batch_size
        self._max_receive_count = max_receive_count
        self._ingestion_memory = ingestion_memory_size
        self._ingestion_concurrency = ingestion_reserved_concurrency
        self._alarm_topic = alarm_topic
        self._training_set_function_name = training_set_function_name

        self.table = protected_table(
            self, "OnlineTable", key=key, partition_key=online_item.PK, time_to_live_attribute=online_item.TTL
        )

        self.offline_bucket = SecureBucket(
            self,
            "Offline",
            key=key,
            server_access_logs_bucket=server_access_logs_bucket,
            lifecycle_rules=[self._lifecycle_rule(infrequent_access_after, glacier_after, expire_after)],
        ).bucket

        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=cdk.Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=glue_database_name, description="Offline feature store (one table per feature group)"
            ),
        )
        self.glue_tables: dict[str, glue.CfnTable] = {}
        for group in self.feature_groups:
            self.glue_tables[group.name] = self._glue_table(group)

        self._ingestion()
        self._training_sets()

    # -- resources ---------------------------------------------------------------------

    def _lifecycle_rule(
        self, ia: cdk.Duration, glacier: cdk.Duration | None, expire: cdk.Duration | None
    ) -> s3.LifecycleRule:
        transitions = [s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=ia)]
        if glacier is not None:
            transitions.append(
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transition_after=glacier
                )
            )
        # Object age is time since the file was written, which for the append-only offline
        # store is the age of the partition's data.
        return s3.LifecycleRule(
            id="offline-partitions-to-cheaper-storage",
            prefix=f"{self.offline_prefix}/" if self.offline_prefix else None,
            transitions=transitions,
            expiration=expire,
        )

    def _glue_table(self, group: FeatureGroup) -> glue.CfnTable:
        spec = layout.glue_table_input(group, self.offline_bucket.bucket_name, self.offline_prefix)
        storage = layout.glue_columns(group)
        table = glue.CfnTable(
            self,
            f"Table{''.join(p.capitalize() for p in group.name.split('_'))}",
            catalog_id=cdk.Aws.ACCOUNT_ID,
            database_name=self.glue_database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=str(spec["Name"]),
                description=str(spec["Description"]),
                table_type="EXTERNAL_TABLE",
                parameters=layout.glue_table_parameters(
                    group, self.offline_bucket.bucket_name, self.offline_prefix
                ),
                partition_keys=[glue.CfnTable.ColumnProperty(name=layout.PARTITION_COLUMN, type="string")],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in storage],
                    location=layout.group_location(
                        self.offline_bucket.bucket_name, self.offline_prefix, group.name
                    ),
                    input_format=layout.PARQUET_INPUT,
                    output_format=layout.PARQUET_OUTPUT,
                    serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=layout.PARQUET_SERDE),
                ),
            ),
        )
        table.node.add_dependency(self.database)
        return table

    def _ingestion(self) -> None:
        self.dead_letter_queue = sqs.Queue(
            self,
            "IngestDLQ",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=durations.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the ingestion queue; it has no DLQ of its own.",
        )
        self.ingestion_queue = sqs.Queue(
            self,
            "IngestQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            # Six times the function timeout, as Lambda's SQS guidance recommends.
            visibility_timeout=durations.minutes(6),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=self._max_receive_count
            ),
        )
        self.idempotency_table = protected_table(
            self, "IdempotencyTable", key=self.key, partition_key="id", time_to_live_attribute="expiration"
        )
        self.ingestion_function = PlatformFunction(
            self,
            "Ingest",
            handler="lambdas.feature_store.ingest_handler.handler",
            domains=["feature_store"],
            requirements=[POWERTOOLS, PYDANTIC, PYARROW],
            environment={
                env.ENV_TABLE: self.table.table_name,
                env.ENV_BUCKET: self.offline_bucket.bucket_name,
                env.ENV_PREFIX: self.offline_prefix,
                env.ENV_IDEMPOTENCY_TABLE: self.idempotency_table.table_name,
                env.ENV_GLUE_DATABASE: self.glue_database_name,
            },
            timeout=durations.minutes(1),
            memory_size=self._ingestion_memory,
            description="Feature store ingestion: SQS records to the online and offline stores",
            key=self.key,
            reserved_concurrent_executions=self._ingestion_concurrency,
        )
        fn = self.ingestion_function.function
        self.grant_write(fn)
        self.idempotency_table.grant(
            fn, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
        )
        fn.add_event_source(
            event_sources.SqsEventSource(
                self.ingestion_queue,
                batch_size=self._batch_size,
                report_batch_item_failures=True,
            )
        )
        self.dlq_alarm = cloudwatch.Alarm(
            self,
            "IngestDLQAlarm",
            alarm_description="Feature records failed ingestion repeatedly and are in the dead-letter queue",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=durations.minutes(1), statistic="Maximum"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if self._alarm_topic is not None:
            notify(self.dlq_alarm, self._alarm_topic)

    def _training_sets(self) -> None:
        output = f"s3://{self.offline_bucket.bucket_name}/{ATHENA_RESULTS_PREFIX}/"
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"{self.glue_database_name}-{cdk.Names.unique_id(self)[-8:].lower()}",
            description="Point-in-time training sets from the offline feature store",
            recursive_delete_option=False,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=output,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.key.key_arn
                    ),
                ),
            ),
        )
        self.training_set_function = PlatformFunction(
            self,
            "TrainingSet",
            handler="lambdas.feature_store.athena_handler.handler",
            domains=["feature_store"],
            environment={
                env.ENV_ATHENA_WORKGROUP: self.workgroup.ref,
                env.ENV_ATHENA_OUTPUT: output,
                env.ENV_GLUE_DATABASE: self.glue_database_name,
            },
            timeout=durations.minutes(5),
            memory_size=256,
            description="Runs point-in-time training-set queries on Athena for the retraining pipeline",
            key=self.key,
            # A literal name lets another stack import the function by ARN, without an export.
            function_name=self._training_set_function_name,
        )
        fn = self.training_set_function.function
        stack = cdk.Stack.of(self)
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["athena:StartQueryExecution", "athena:GetQueryExecution"],
                resources=[
                    stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup.ref)
                ],
            )
        )
        self.grant_read_offline(fn)
        # What Athena needs on its result location, on the results prefix only.
        self._grant_objects(
            fn,
            ATHENA_RESULTS_PREFIX,
            [
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
        )
        self.key.grant(fn, "kms:Encrypt", "kms:GenerateDataKey")

    # -- grants ------------------------------------------------------------------------

    def _glue_arns(self) -> list[str]:
        stack = cdk.Stack.of(self)
        return [
            stack.format_arn(service="glue", resource="catalog"),
            stack.format_arn(service="glue", resource="database", resource_name=self.glue_database_name),
            *(
                stack.format_arn(
                    service="glue", resource="table", resource_name=f"{self.glue_database_name}/{g}"
                )
                for g in self.glue_tables
            ),
        ]

    def grant_training_set_output(self, bucket: s3.IBucket, prefix: str) -> iam.Grant:
        """Let the training-set function UNLOAD into `bucket` under `prefix/` (e.g. the retraining
        pipeline's per-run prefixes). Athena writes with the caller's permissions: it lists the
        target to check that it is empty, then puts the Parquet files (encrypted with the
        workgroup's key, which the function already uses)."""
        return self._grant_training_set_objects(
            bucket,
            prefix,
            ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            f"Training sets are written as Athena-named Parquet files under per-run prefixes of '{prefix.strip('/')}/'.",
        )

    def grant_training_set_source(
        self, *, database: str, table: str, bucket: s3.IBucket, prefix: str
    ) -> iam.Grant:
        """Let the training-set function read a labels table (`database.table`, files under
        `bucket/prefix/`) that point-in-time queries join the features to."""
        stack = cdk.Stack.of(self)
        glue = iam.Grant.add_to_principal(
            grantee=self.training_set_function.function,
            actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
            resource_arns=[
                stack.format_arn(service="glue", resource="catalog"),
                stack.format_arn(service="glue", resource="database", resource_name=database),
                stack.format_arn(service="glue", resource="table", resource_name=f"{database}/{table}"),
            ],
        )
        return glue.combine(
            self._grant_training_set_objects(
                bucket,
                prefix,
                ["s3:GetObject"],
                f"Athena reads every file of the labels table {database}.{table}, whose names its writers choose.",
            )
        )

    def _grant_training_set_objects(
        self, bucket: s3.IBucket, prefix: str, actions: list[str], reason: str
    ) -> iam.Grant:
        """`actions` on the objects below `prefix/` plus listing the bucket, IAM5 acknowledged with `reason`."""
        fn = self.training_set_function.function
        key_prefix = prefix.strip("/")
        objects = bucket.arn_for_objects(f"{key_prefix}/*" if key_prefix else "*")
        grant = iam.Grant.add_to_principal(grantee=fn, actions=actions, resource_arns=[objects]).combine(
            iam.Grant.add_to_principal(
                grantee=fn,
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resource_arns=[bucket.bucket_arn],
            )
        )
        acknowledge_wildcards(self.training_set_function.role, reason, resources=[objects])
        return grant

    def grant_read_registry(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["glue:GetTable", "glue:GetDatabase"], resource_arns=self._glue_arns()
        )

    def grant_read_online(self, grantee: iam.IGrantable) -> iam.Grant:
        """BatchGetItem/GetItem on the online table, the key to decrypt, the registry."""
        grant = self.table.grant(grantee, "dynamodb:BatchGetItem", "dynamodb:GetItem")
        self.key.grant(grantee, "kms:Decrypt")
        return grant.combine(self.grant_read_registry(grantee))

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Conditional PutItem online, PutObject under the offline prefix, the key, the registry."""
        grant = self.table.grant(grantee, "dynamodb:PutItem")
        grant = grant.combine(self._grant_objects(grantee, self.offline_prefix, ["s3:PutObject"]))
        self.key.grant(grantee, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        return grant.combine(self.grant_read_registry(grantee))

    def grant_read_offline(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read the offline Parquet files and their Glue tables (Athena/Spark readers)."""
        grant = self._grant_objects(grantee, self.offline_prefix, ["s3:GetObject"])
        grant = grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resource_arns=[self.offline_bucket.bucket_arn],
            )
        )
        self.key.grant(grantee, "kms:Decrypt")
        glue_grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "glue:GetTable",
                "glue:GetTables",
                "glue:GetDatabase",
                "glue:GetPartition",
                "glue:GetPartitions",
            ],
            resource_arns=self._glue_arns(),
        )
        return grant.combine(glue_grant)

    def _grant_objects(self, grantee: iam.IGrantable, prefix: str, actions: list[str]) -> iam.Grant:
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=actions,
            resource_arns=[self.offline_bucket.arn_for_objects(f"{prefix}/*")],
        )
        principal = grantee.grant_principal
        if isinstance(principal, Construct):
            bucket_id = cdk.Stack.of(self).get_logical_id(self.offline_bucket.node.default_child)  # type: ignore[arg-type]
            acknowledge(
                principal,
                "AwsSolutions-IAM5",
                f"Object-level access is needed to every object under the '{prefix}/' prefix of the feature store bucket, "
                "whose keys are per partition and per batch.",
                applies_to=[f"Resource::<{bucket_id}.Arn>/{prefix}/*"],
            )
        return grant

    # -- metrics -----------------------------------------------------------------------

    def _metric(self, name: str, group: str, statistic: str, period: cdk.Duration) -> cloudwatch.Metric:
        if group not in self.glue_tables:
            raise ValueError(
                f"{self.node.path}: unknown feature group '{group}'; known: {sorted(self.glue_tables)}"
            )
        return cloudwatch.Metric(
            namespace=mn.NAMESPACE,
            metric_name=name,
            dimensions_map={mn.GROUP_DIMENSION: group},
            statistic=statistic,
            period=period,
        )

    def metric_read_latency(
        self, group: str, *, statistic: str = "p99", period: cdk.Duration = ONE_MINUTE
    ) -> cloudwatch.Metric:
        """get_features latency in milliseconds, as measured by the client."""
        return self._metric(mn.READ_LATENCY, group, statistic, period)

    def metric_values_read(self, group: str, *, period: cdk.Duration = FIVE_MINUTES) -> cloudwatch.Metric:
        return self._metric(mn.VALUES_READ, group, "Sum", period)

    def metric_stale_values(self, group: str, *, period: cdk.Duration = FIVE_MINUTES) -> cloudwatch.Metric:
        return self._metric(mn.STALE_VALUES, group, "Sum", period)

    def metric_stale_value_rate(
        self, group: str, *, period: cdk.Duration = FIVE_MINUTES
    ) -> cloudwatch.MathExpression:
        """Percentage of values read that were STALE."""
        return cloudwatch.MathExpression(
            expression="IF(read > 0, 100 * stale / read, 0)",
            using_metrics={
                "stale": self.metric_stale_values(group, period=period),
                "read": self.metric_values_read(group, period=period),
            },
            label=f"{group} stale values (%)",
            period=period,
        )

    def metric_unavailable_values(
        self, group: str, *, period: cdk.Duration = FIVE_MINUTES
    ) -> cloudwatch.Metric:
        return self._metric(mn.UNAVAILABLE_VALUES, group, "Sum", period)

    def metric_rejected_records(
        self, group: str, *, period: cdk.Duration = FIVE_MINUTES
    ) -> cloudwatch.Metric:
        return self._metric(mn.RECORDS_REJECTED, group, "Sum", period)
