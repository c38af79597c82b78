"""`SpotTrainingStep`: the role and the CreateTrainingJob request of one model's managed-spot
training, which the retraining state machine sends.

`tasks.SageMakerCreateTrainingJob` cannot switch on managed spot training, and `.sync`
integrations do not run in local interpreters, so the state machine makes an AWS SDK
`createTrainingJob` call followed by a Wait / `describeTrainingJob` / Choice polling loop
(`lambdas.training.pipeline_definition`). The loop sits in a one-branch Parallel state whose
Retry handles spot capacity failures: each retry names a new job that shares the run's
checkpoint URI, so it resumes from the last checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import durations
from constructs_lib.iam_statements import add_statement
from constructs_lib.model_endpoint import SAGEMAKER_LOG_ACTIONS, SAGEMAKER_VPC_ACTIONS
from constructs_lib.nag import acknowledge, flatten_reference
from lambdas.common.asl import JsonPath
from lambdas.common.errors import InputError
from lambdas.training.run_naming import ARTIFACT_PREFIX
from lambdas.training.spot_training import MetricDefinition, SpotTrainingSpec, create_training_job_request

DEFAULT_MAX_RUNTIME = durations.hours(24)
DEFAULT_MAX_WAIT = durations.hours(48)
DEFAULT_POLL_INTERVAL = durations.minutes(1)
DEFAULT_CAPACITY_RETRY_INTERVAL = durations.minutes(5)

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repo>[^:@]+)"
)


def nag_finding(scope: Construct, value: str) -> str:
    """How cdk-nag spells a (possibly tokenised) ARN in an IAM5 finding, e.g.
    ``arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/*``."""
    return flatten_reference(scope, value)


def grant_key_use(key: kms.IKey, principal: iam.IGrantable) -> None:
    """Encrypt/decrypt with `key`, spelled out: `grant_encrypt_decrypt` adds `kms:ReEncrypt*`
    and `kms:GenerateDataKey*` wildcards that nobody here needs."""
    add_statement(
        principal.grant_principal,
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=[key.key_arn],
        ),
    )


class SpotTrainingStep(Construct):
    """The training role and the CreateTrainingJob request that trains one model on spot capacity.

    `request` reads the run's values from the state: `$.attempt.jobName`,
    `$.lock.training_data_uri`, `$.lock.checkpoint_uri`, `$.lock.output_uri` and
    `$.lock.run_id` (from the lock step). `job_arn_pattern` is the ARN of its training jobs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_name: str,
        image_uri: str,
        instance_type: str,
        artifact_bucket: s3.IBucket,
        key: kms.IKey,
        instance_count: int = 1,
        volume_size_gb: int = 50,
        max_runtime: cdk.Duration = DEFAULT_MAX_RUNTIME,
        max_wait: cdk.Duration = DEFAULT_MAX_WAIT,
        managed_spot: bool = True,
        hyperparameters: Mapping[str, str] | None = None,
        metric_definitions: Sequence[MetricDefinition] = (),
        subnets: Sequence[ec2.ISubnet] = (),
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        runtime_policy: iam.Policy | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self._runtime_policy = runtime_policy
        self.role = iam.Role(
            self,
            "TrainingRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"SageMaker training (and serving) role of the {model_name} retraining pipeline",
        )
        self.spec = SpotTrainingSpec(
            image_uri=image_uri,
            role_arn=self.role.role_arn,
            instance_type=instance_type,
            instance_count=instance_count,
            volume_size_gb=volume_size_gb,
            max_runtime_seconds=int(durations.in_seconds(max_runtime)),
            max_wait_seconds=int(durations.in_seconds(max_wait)),
            kms_key_arn=key.key_arn,
            subnet_ids=[s.subnet_id for s in subnets],
            security_group_ids=[g.security_group_id for g in security_groups],
            hyperparameters=dict(hyperparameters or {}),
            metric_definitions=tuple(metric_definitions),
            managed_spot=managed_spot,
        )
        problems = self.spec.problems()
        if problems:
            raise InputError(problems, f"{self.node.path} (model {model_name})")
        self._grant_training_role(artifact_bucket, key, image_uri, bool(subnets))

        self.job_arn_pattern = stack.format_arn(
            service="sagemaker",
            resource="training-job",
            resource_name="*",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        self.request = create_training_job_request(
            self.spec,
            job_name=JsonPath("$.attempt.jobName"),
            training_data_uri=JsonPath("$.lock.training_data_uri"),
            checkpoint_uri=JsonPath("$.lock.checkpoint_uri"),
            output_uri=JsonPath("$.lock.output_uri"),
            tags={"mlplatform:model": model_name, "mlplatform:run": JsonPath("$.lock.run_id")},
        )

    def _grant_training_role(self, bucket: s3.IBucket, key: kms.IKey, image_uri: str, in_vpc: bool) -> None:
        stack = cdk.Stack.of(self)
        # Only the retraining prefix: training reads its data set and writes checkpoints and output there.
        objects = bucket.arn_for_objects(f"{ARTIFACT_PREFIX}/*")
        add_statement(
            self.role,
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[objects],
            ),
        )
        add_statement(
            self.role,
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[bucket.bucket_arn],
            ),
        )
        grant_key_use(key, self.role)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5",
            "Training data, checkpoints and outputs are objects named per run under the retraining prefix.",
            applies_to=[f"Resource::{nag_finding(self, objects)}"],
        )
        match = _ECR_IMAGE.match(image_uri)
        if match:
            repo_arn = (
                f"arn:{stack.partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}"
            )
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:BatchCheckLayerAvailability",
                    ],
                    resources=[repo_arn],
                )
            )
        runtime = self._runtime_policy or training_runtime_policy(
            self, "TrainingRuntimePolicy", in_vpc=in_vpc
        )
        runtime.attach_to_role(self.role)


def training_runtime_policy(scope: Construct, construct_id: str, *, in_vpc: bool) -> iam.Policy:
    """What every SageMaker training job needs, whatever the model: ECR sign-in, its logs and
    metrics, and ENI management in a VPC. One policy may serve all the training roles of a
    stack (`RetrainingSteps.training_runtime_policy`)."""
    stack = cdk.Stack.of(scope)
    log_group_arn = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name="/aws/sagemaker/*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    statements = [
        iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        iam.PolicyStatement(
            actions=list(SAGEMAKER_LOG_ACTIONS), resources=[log_group_arn, f"{log_group_arn}:*"]
        ),
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        ),
    ]
    if in_vpc:
        statements.append(iam.PolicyStatement(actions=list(SAGEMAKER_VPC_ACTIONS), resources=["*"]))
    policy = iam.Policy(scope, construct_id, statements=statements)
    acknowledge(
        policy,
        "AwsSolutions-IAM5",
        "SageMaker training needs ecr:GetAuthorizationToken and ENI management, which take no resource ARN; "
        "logs are limited to /aws/sagemaker/* and metrics to the /aws/sagemaker/* namespaces.",
        applies_to=[
            "Resource::*",
            f"Resource::{nag_finding(scope, log_group_arn)}",
            f"Resource::{nag_finding(scope, log_group_arn)}:*",
        ],
    )
    return policy
