"""`BatchFeaturePipeline`: a Glue Spark job per batch feature group, plus materialization.

The batch job (``lambdas/feature_pipelines/glue/batch_features_job.py``) aggregates a
Glue catalog source per entity and event date into the offline store, incrementally with
job bookmarks. The materialization job (``materialization_job.py``) copies the newest
offline row per entity into the online table, on an EventBridge Scheduler schedule and
on demand (``grant_start_materialization`` for the retraining pipeline). Both run under
one Glue security configuration that encrypts S3 output, CloudWatch logs and bookmarks
with the given key. The scripts and the ``lambdas`` package they import are assets.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from constructs_lib.key_policies import allow_cloudwatch_logs
from constructs_lib.nag import acknowledge, acknowledge_wildcards
from constructs_lib.secure_bucket import SecureBucket
from constructs_lib.streaming_features import grant_key_use, object_wildcard_finding
from lambdas.common.errors import InputError
from lambdas.feature_pipelines.batch_spec import BatchFeatureSpec, check_against_group
from lambdas.feature_pipelines.glue import job_args as a
from lambdas.feature_store.offline_layout import group_prefix
from lambdas.feature_store.registry import FeatureGroup

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
GLUE_DIR = LAMBDAS_DIR / "feature_pipelines" / "glue"
PACKAGED_DOMAINS = ("common", "feature_store", "feature_pipelines")
GLUE_VERSIONS = ("4.0", "5.0")


def stage_python_package() -> str:
    """A directory holding ``lambdas/`` with only what the Glue scripts import.

    The asset of a directory is uploaded as a .zip, which is what ``--extra-py-files``
    takes; staging keeps other domains (and caches) out of it.
    """
    staging = Path(tempfile.mkdtemp(prefix="glue-lambdas-"))
    target = staging / "lambdas"
    target.mkdir()
    shutil.copy2(LAMBDAS_DIR / "__init__.py", target / "__init__.py")
    for domain in PACKAGED_DOMAINS:
        shutil.copytree(
            LAMBDAS_DIR / domain, target / domain, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    return str(staging)


class BatchFeaturePipeline(Construct):
    """Batch features and materialization for one feature group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: BatchFeatureSpec,
        feature_group: FeatureGroup,
        key: kms.IKey,
        source_database: str,
        source_table: str,
        source_bucket: s3.IBucket,
        offline_bucket: s3.IBucket,
        online_table: dynamodb.ITable,
        source_prefix: str = "",
        offline_prefix: str = "offline",
        glue_version: str = "4.0",
        worker_type: str = "G.1X",
        number_of_workers: int = 2,
        timeout_minutes: int = 120,
        max_retries: int = 1,
        materialization_schedule: str | None = "rate(1 hour)",
        materialization_lookback_hours: float = 2.0,
        materialization_partitions: int = 16,
        materialization_writes_per_second: float = 100.0,
        server_access_logs_bucket: s3.IBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        problems = check_against_group(spec, feature_group)
        if problems:
            raise InputError(problems, source=f"{self.node.path}: batch spec")
        if glue_version not in GLUE_VERSIONS:
            raise ValueError(
                f"{self.node.path}: glue_version must be one of {GLUE_VERSIONS}, got {glue_version!r}"
            )
        if number_of_workers < 2:
            raise ValueError(
                f"{self.node.path}: Glue Spark jobs need at least 2 workers, got {number_of_workers}"
            )
        self.feature_group = feature_group
        self.key = key
        stack = cdk.Stack.of(self)

        self.work_bucket = SecureBucket(
            self, "Work", key=key, server_access_logs_bucket=server_access_logs_bucket
        ).bucket
        package = s3_assets.Asset(self, "Package", path=stage_python_package())
        batch_script = s3_assets.Asset(self, "BatchScript", path=str(GLUE_DIR / "batch_features_job.py"))
        materialize_script = s3_assets.Asset(
            self, "MaterializeScript", path=str(GLUE_DIR / "materialization_job.py")
        )

        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "Security",
            name=f"{stack.stack_name}-{feature_group.name}-features"[:255],
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key.key_arn
                ),
            ),
        )
        # Glue's encrypted log groups are written by CloudWatch Logs with this key.
        allow_cloudwatch_logs(self, key, "/aws-glue/*")

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue jobs of batch feature group {feature_group.name}",
        )
        self._grant_jobs(
            source_database,
            source_table,
            source_bucket,
            source_prefix,
            offline_bucket,
            offline_prefix,
            online_table,
        )
        # Exact asset keys instead of Asset.grant_read, which grants s3:GetObject* on the bucket.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[
                    asset.bucket.arn_for_objects(asset.s3_object_key)
                    for asset in (package, batch_script, materialize_script)
                ],
            )
        )

        offline_path = f"s3://{offline_bucket.bucket_name}/{offline_prefix.strip('/')}"
        common_args = {
            "--extra-py-files": package.s3_object_url,
            "--TempDir": self.work_bucket.s3_url_for_object("temp/"),
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-glue-datacatalog": "true",
            a.flag(a.FEATURE_GROUP): feature_group.model_dump_json(),
            a.flag(a.OFFLINE_PATH): offline_path,
        }
        job_props = {
            "role": self.role.role_arn,
            "glue_version": glue_version,
            "worker_type": worker_type,
            "number_of_workers": number_of_workers,
            "timeout": timeout_minutes,
            "max_retries": max_retries,
            "security_configuration": self.security_configuration.ref,
            "execution_property": glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
        }
        self.batch_job = glue.CfnJob(
            self,
            "BatchJob",
            description=f"Daily batch features of feature group {feature_group.name}",
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=batch_script.s3_object_url
            ),
            default_arguments={
                **common_args,
                "--job-bookmark-option": "job-bookmark-enable",
                a.flag(a.SPEC): spec.model_dump_json(),
                a.flag(a.SOURCE_DATABASE): source_database,
                a.flag(a.SOURCE_TABLE): source_table,
            },
            **job_props,  # type: ignore[arg-type]
        )
        self.materialization_job = glue.CfnJob(
            self,
            "MaterializationJob",
            description=f"Offline to online materialization of feature group {feature_group.name}",
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=materialize_script.s3_object_url
            ),
            default_arguments={
                **common_args,
                # Resumption uses its own checkpoints; a bookmark would hide reruns of a range.
                "--job-bookmark-option": "job-bookmark-disable",
                a.flag(a.ONLINE_TABLE): online_table.table_name,
                a.flag(a.CHECKPOINT_BUCKET): self.work_bucket.bucket_name,
                a.flag(a.CHECKPOINT_PREFIX): "materialization",
                a.flag(a.PARTITIONS): str(materialization_partitions),
                a.flag(a.WRITES_PER_SECOND): str(materialization_writes_per_second),
                a.flag(a.LOOKBACK_HOURS): str(materialization_lookback_hours),
            },
            **job_props,  # type: ignore[arg-type]
        )
        self.schedule: scheduler.CfnSchedule | None = None
        if materialization_schedule is not None:
            self.schedule = self._schedule(materialization_schedule)

    def _job_arn(self, job: glue.CfnJob) -> str:
        return cdk.Stack.of(self).format_arn(service="glue", resource="job", resource_name=job.ref)

    def _schedule(self, expression: str) -> scheduler.CfnSchedule:
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description=f"Starts materialization of feature group {self.feature_group.name}",
        )
        self.grant_start_materialization(role)
        return scheduler.CfnSchedule(
            self,
            "MaterializationSchedule",
            description=f"Materialize feature group {self.feature_group.name} to the online store",
            schedule_expression=expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn="arn:aws:scheduler:::aws-sdk:glue:startJobRun",
                role_arn=role.role_arn,
                input=cdk.Stack.of(self).to_json_string(
                    {
                        "JobName": self.materialization_job.ref,
                        "Arguments": {a.flag(a.END): a.SCHEDULED_TIME},
                    }
                ),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=3
                ),
            ),
        )

    def _grant_jobs(
        self,
        source_database: str,
        source_table: str,
        source_bucket: s3.IBucket,
        source_prefix: str,
        offline_bucket: s3.IBucket,
        offline_prefix: str,
        online_table: dynamodb.ITable,
    ) -> None:
        stack = cdk.Stack.of(self)
        role = self.role
        group_key_prefix = group_prefix(offline_prefix, self.feature_group.name)
        source_objects = f"{source_prefix.strip('/')}/*" if source_prefix.strip("/") else "*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=source_database),
                    stack.format_arn(
                        service="glue", resource="table", resource_name=f"{source_database}/{source_table}"
                    ),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[source_bucket.arn_for_objects(source_objects)]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[offline_bucket.arn_for_objects(f"{group_key_prefix}/*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[source_bucket.bucket_arn, offline_bucket.bucket_arn, self.work_bucket.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[self.work_bucket.arn_for_objects("*")],
            )
        )
        online_table.grant(role, "dynamodb:PutItem")
        for bucket in (source_bucket, offline_bucket):
            if bucket.encryption_key is not None:
                grant_key_use(bucket.encryption_key, role)
        if online_table.encryption_key is not None:
            grant_key_use(online_table.encryption_key, role)
        grant_key_use(self.key, role)
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws-glue/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[log_groups, f"{log_groups}:*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            )
        )
        reason = "Glue jobs need object-level access below one prefix whose keys Spark names at run time."
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            reason,
            applies_to=[
                object_wildcard_finding(offline_bucket, f"{group_key_prefix}/*"),
                object_wildcard_finding(source_bucket, source_objects),
                object_wildcard_finding(self.work_bucket, "*"),
            ],
        )
        acknowledge_wildcards(
            role,
            "Glue writes its driver and executor logs to log groups under /aws-glue/ it creates per run.",
            resources=[log_groups, f"{log_groups}:*"],
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "cloudwatch:PutMetricData has no resource ARNs; limited to the Glue namespace by condition.",
            applies_to=["Resource::*"],
        )

    def grant_start_materialization(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let e.g. the retraining pipeline start (and watch) a materialization run."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns"],
            resource_arns=[self._job_arn(self.materialization_job)],
        )

    @property
    def materialization_job_name(self) -> str:
        return self.materialization_job.ref

    @property
    def batch_job_name(self) -> str:
        return self.batch_job.ref
