"""`ModelEndpoint`: a SageMaker real-time endpoint that can be updated safely.

Built on the L1 resources (the alpha L2 has neither deployment guardrails nor data
capture):

- one `CfnModel` per production variant (a variant may override the artifact), with
  network isolation and VPC placement for instance-backed variants;
- a `CfnEndpointConfig` whose *name* is a hash of its content and of its models' content,
  so any change creates a new config and the same, stably named `CfnEndpoint` is updated
  to it with a blue/green deployment (CANARY, LINEAR or ALL_AT_ONCE) that rolls back on
  CloudWatch alarms (5xx errors, model errors, p99 `ModelLatency` above the SLO);
- Application Auto Scaling per instance variant: target tracking on invocations per
  instance and on model latency, scale-in/out cooldowns, optional scheduled capacity.

Serverless variants: SageMaker supports neither VPC placement, network isolation, data
capture nor a second variant next to a serverless one, so those combinations fail at
synth time with a message naming the variant.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import durations
from constructs_lib.alarm_actions import notify
from constructs_lib.nag import acknowledge, acknowledge_wildcards
from lambdas.serving.config_hash import hashed_name, is_valid_name

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
#: What SageMaker needs to place an endpoint's or a training job's network interfaces in a VPC.
#: What a SageMaker container's role needs to write its logs (training jobs and endpoints).
SAGEMAKER_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
)
SAGEMAKER_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
    r"/(?P<repo>[a-z0-9._/-]+?)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$"
)
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]+)/(?P<key>.+)$")
_MICROSECONDS_PER_MS = 1000
#: Application Auto Scaling acts on SageMaker variants through this service-linked role, which
#: it creates on first use; a role of our own per variant would only count against the IAM quota.
SCALING_SERVICE_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)

TrafficRouting = Literal["CANARY", "LINEAR", "ALL_AT_ONCE"]


@dataclass(frozen=True)
class ServerlessSpec:
    """Serverless capacity of a variant (no instances, no autoscaling)."""

    memory_size_mb: int = 2048
    max_concurrency: int = 20
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class ScheduledCapacity:
    """Capacity bounds applied on a schedule (``cron(...)``, ``rate(...)`` or ``at(...)``)."""

    name: str
    schedule: str
    min_capacity: int
    max_capacity: int


@dataclass(frozen=True)
class ScalingSpec:
    """Autoscaling of one instance-backed variant.

    `target_latency_ms` tracks the average `ModelLatency` (converted to the metric's
    microseconds); `None` switches that policy off, as does `None` for invocations.
    """

    min_capacity: int = 1
    max_capacity: int = 4
    target_invocations_per_instance: float | None = 1000
    target_latency_ms: float | None = None
    scale_in_cooldown: cdk.Duration = field(default_factory=lambda: durations.minutes(5))
    scale_out_cooldown: cdk.Duration = field(default_factory=lambda: durations.minutes(1))
    scheduled: Sequence[ScheduledCapacity] = ()


@dataclass(frozen=True)
class VariantSpec:
    """One production variant: instance-backed (`instance_type`) or `serverless`."""

    name: str
    weight: float = 1.0
    instance_type: str | None = None
    initial_instance_count: int | None = None
    serverless: ServerlessSpec | None = None
    scaling: ScalingSpec | None = None
    model_artifact: str | None = None

    @property
    def is_serverless(self) -> bool:
        return self.serverless is not None


@dataclass(frozen=True)
class DeploymentPolicy:
    """How an endpoint update shifts traffic, and when it rolls back."""

    traffic_routing: TrafficRouting = "CANARY"
    canary_percent: int = 10
    linear_step_percent: int = 20
    wait_interval: cdk.Duration = field(default_factory=lambda: durations.minutes(5))
    termination_wait: cdk.Duration = field(default_factory=lambda: durations.minutes(5))
    max_execution_time: cdk.Duration = field(default_factory=lambda: durations.hours(1))
    auto_rollback: bool = True
    # Errors per minute (summed over variants) that trip the 5xx and model-error alarms.
    error_threshold: int = 5
    alarm_evaluation_minutes: int = 2


@dataclass(frozen=True)
class DataCaptureSpec:
    """Where request/response capture goes (JSON Lines under `s3://bucket/prefix`)."""

    bucket: s3.IBucket
    prefix: str
    key: kms.IKey | None = None
    sampling_percent: int = 20
    json_content_types: Sequence[str] = ("application/json",)


def rollback_alarm_name(endpoint_name: str, alarm_id: str) -> str:
    """The name of one of an endpoint's rollback alarms (`alarm_id` in `rollback_alarm_ids`)."""
    return f"{endpoint_name}-{alarm_id}"


def rollback_alarm_ids(latency_slo_ms: float | None) -> list[str]:
    """The rollback alarms an endpoint has: errors always, p99 latency when it has an SLO."""
    return [
        "Invocation5XXErrors",
        "ModelErrors",
        *(["ModelLatencyP99"] if latency_slo_ms is not None else []),
    ]


def _fail(path: str, message: str) -> ValueError:
    return ValueError(f"{path}: {message}")


class ModelEndpoint(Construct):
    """A SageMaker endpoint with guarded blue/green updates and per-variant autoscaling."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        image: str,
        artifact: str,
        variants: Sequence[VariantSpec],
        key: kms.IKey,
        artifact_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        network_isolation: bool = True,
        environment: Mapping[str, str] | None = None,
        data_capture: DataCaptureSpec | None = None,
        deployment: DeploymentPolicy | None = None,
        latency_slo_ms: float | None = None,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.endpoint_name = endpoint_name
        self.variants = tuple(variants)
        self.deployment = deployment or DeploymentPolicy()
        self.latency_slo_ms = latency_slo_ms
        self._validate(image, artifact, data_capture, vpc)

        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"SageMaker execution role of endpoint {endpoint_name}",
        )
        self._grant_runtime_access(image, artifact, key, artifact_key, data_capture)

        self.security_groups: list[ec2.ISecurityGroup] = []
        vpc_config = None
        if vpc is not None:
            self.security_groups = list(security_groups or [])
            if not self.security_groups:
                self.security_groups.append(
                    ec2.SecurityGroup(
                        self,
                        "SecurityGroup",
                        vpc=vpc,
                        description=f"SageMaker endpoint {endpoint_name}: no inbound, outbound to VPC endpoints",
                    )
                )
            subnets = vpc.select_subnets(**_subnet_selection_kwargs(vpc_subnets))
            vpc_config = sagemaker.CfnModel.VpcConfigProperty(
                security_group_ids=[sg.security_group_id for sg in self.security_groups],
                subnets=subnets.subnet_ids,
            )
            self._grant_vpc_access()

        self.models: dict[str, sagemaker.CfnModel] = {}
        for variant in self.variants:
            model = sagemaker.CfnModel(
                self,
                f"Model{_logical(variant.name)}",
                execution_role_arn=self.role.role_arn,
                primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                    image=image,
                    model_data_url=variant.model_artifact or artifact,
                    environment=dict(environment) if environment else None,
                ),
                enable_network_isolation=None if variant.is_serverless else network_isolation,
                vpc_config=None if variant.is_serverless else vpc_config,
            )
            # CreateModel checks that the role can read the artifact, so its policy must exist first
            # (the role itself is already a dependency through the ARN).
            policy = self.role.node.try_find_child("DefaultPolicy")
            if policy is not None:
                model.node.add_dependency(policy)
            self.models[variant.name] = model

        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[self._production_variant(v) for v in self.variants],
            # Serverless endpoints have no volumes, and instances with local NVMe storage
            # encrypt it in hardware: SageMaker rejects a volume key for both.
            kms_key_id=None if self._serverless or self._local_storage else key.key_arn,
            data_capture_config=self._data_capture(data_capture),
        )
        self.endpoint_config_name = self._content_name()
        self.endpoint_config.endpoint_config_name = self.endpoint_config_name

        self.alarms: dict[str, cloudwatch.Alarm] = self._rollback_alarms(alarm_topic)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=self._deployment_config(),
            **self._retained_variant_properties(),
        )
        self.endpoint_arn = self.endpoint.ref

        self.scalable_targets: dict[str, appscaling.ScalableTarget] = {}
        for variant in self.variants:
            if variant.scaling is not None:
                self.scalable_targets[variant.name] = self._autoscale(variant, variant.scaling)

    # ------------------------------------------------------------------ validation
    @property
    def _serverless(self) -> bool:
        return any(v.is_serverless for v in self.variants)

    @property
    def _local_storage(self) -> bool:
        return any(v.instance_type is not None and has_local_storage(v.instance_type) for v in self.variants)

    @functools.cached_property
    def _path(self) -> str:
        # Each read of node.path is two jsii round trips; validation names the endpoint often.
        return self.node.path

    def _validate(
        self, image: str, artifact: str, data_capture: DataCaptureSpec | None, vpc: ec2.IVpc | None
    ) -> None:
        path = self._path
        if not is_valid_name(self.endpoint_name):
            raise _fail(
                path, f"endpoint_name {self.endpoint_name!r} must be 1-63 letters, digits and inner hyphens"
            )
        if not self.variants:
            raise _fail(path, "variants: at least one production variant is needed")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise _fail(path, f"variants: names must be unique, got {names}")
        if any(v.weight < 0 for v in self.variants) or sum(v.weight for v in self.variants) <= 0:
            raise _fail(
                path,
                f"variants: weights {[v.weight for v in self.variants]} must be non-negative and sum to a "
                "positive value (they are traffic shares)",
            )
        if not image:
            raise _fail(path, "image: an inference container image URI is required")
        for variant in self.variants:
            _check_artifact(
                path, f"variants[{variant.name}].model_artifact", variant.model_artifact or artifact
            )
            self._validate_variant(variant)
        if self._serverless:
            if len(self.variants) > 1:
                raise _fail(path, "variants: a serverless variant must be the endpoint's only variant")
            if data_capture is not None:
                raise _fail(path, "data_capture: SageMaker does not capture data from serverless variants")
            if vpc is not None:
                raise _fail(path, "vpc: serverless variants cannot be placed in a VPC")
        if data_capture is not None and not 0 <= data_capture.sampling_percent <= 100:
            raise _fail(
                path, f"data_capture.sampling_percent must be 0-100, got {data_capture.sampling_percent}"
            )
        policy = self.deployment
        if policy.auto_rollback and self.latency_slo_ms is None:
            raise _fail(
                path,
                "latency_slo_ms is required when deployment.auto_rollback is on: the rollback alarm "
                "compares p99 ModelLatency with it (set it, or set auto_rollback=False)",
            )
        if self.latency_slo_ms is not None and self.latency_slo_ms <= 0:
            raise _fail(path, f"latency_slo_ms must be positive, got {self.latency_slo_ms}")
        if policy.traffic_routing == "CANARY" and not 1 <= policy.canary_percent <= 100:
            raise _fail(path, f"deployment.canary_percent must be 1-100, got {policy.canary_percent}")
        if policy.traffic_routing == "LINEAR" and not 1 <= policy.linear_step_percent <= 100:
            raise _fail(
                path, f"deployment.linear_step_percent must be 1-100, got {policy.linear_step_percent}"
            )
        self._validate_timings(policy)

    def _validate_timings(self, policy: DeploymentPolicy) -> None:
        path = self._path
        wait = durations.in_seconds(policy.wait_interval)
        termination = durations.in_seconds(policy.termination_wait)
        maximum = durations.in_seconds(policy.max_execution_time)
        # Ranges of the SageMaker API (BlueGreenUpdatePolicy, TrafficRoutingConfig).
        if not 0 <= wait <= 3600:
            raise _fail(path, f"deployment.wait_interval must be 0-3600 s, got {wait:g} s")
        if not 0 <= termination <= 3600:
            raise _fail(path, f"deployment.termination_wait must be 0-3600 s, got {termination:g} s")
        if not 600 <= maximum <= 28800:
            raise _fail(path, f"deployment.max_execution_time must be 600-28800 s, got {maximum:g} s")
        # A deployment whose baking time exceeds its time limit always times out and rolls back.
        steps = {"CANARY": 1, "LINEAR": -(-100 // policy.linear_step_percent), "ALL_AT_ONCE": 0}
        needed = steps[policy.traffic_routing] * wait + termination
        if needed >= maximum:
            raise _fail(
                path,
                f"deployment.max_execution_time ({maximum:g} s) must exceed the baking time of a "
                f"{policy.traffic_routing} deployment ({needed:g} s: wait intervals plus termination wait)",
            )

    def _validate_variant(self, variant: VariantSpec) -> None:
        where = f"{self._path}: variant {variant.name!r}"
        if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", variant.name) or len(variant.name) > 63:
            raise ValueError(f"{where}: name must be letters, digits and inner hyphens")
        if variant.serverless is not None:
            serverless = variant.serverless
            if serverless.memory_size_mb not in (1024, 2048, 3072, 4096, 5120, 6144):
                raise ValueError(f"{where}: serverless memory_size_mb must be 1024-6144 in steps of 1024")
            if not 1 <= serverless.max_concurrency <= 200:
                raise ValueError(f"{where}: serverless max_concurrency must be 1-200")
            provisioned = serverless.provisioned_concurrency
            if provisioned is not None and not 1 <= provisioned <= serverless.max_concurrency:
                raise ValueError(f"{where}: serverless provisioned_concurrency must be 1..max_concurrency")
            instance_settings = [
                k
                for k in ("instance_type", "initial_instance_count", "scaling")
                if getattr(variant, k) is not None
            ]
            if instance_settings:
                raise ValueError(
                    f"{where} is serverless but also sets {', '.join(instance_settings)}; "
                    "remove them or remove 'serverless'"
                )
            return
        if variant.instance_type is None:
            raise ValueError(f"{where} needs either instance_type or serverless")
        scaling = variant.scaling
        if scaling is None:
            return
        if not 1 <= scaling.min_capacity <= scaling.max_capacity:
            raise ValueError(
                f"{where}: scaling needs 1 <= min_capacity <= max_capacity, "
                f"got {scaling.min_capacity}..{scaling.max_capacity}"
            )
        count = variant.initial_instance_count or scaling.min_capacity
        if not scaling.min_capacity <= count <= scaling.max_capacity:
            raise ValueError(
                f"{where}: initial_instance_count {count} is outside scaling bounds "
                f"{scaling.min_capacity}..{scaling.max_capacity}"
            )
        for scheduled in scaling.scheduled:
            if not 1 <= scheduled.min_capacity <= scheduled.max_capacity:
                raise ValueError(
                    f"{where}: scheduled action {scheduled.name!r} needs 1 <= min <= max capacity"
                )

    # ------------------------------------------------------------------ IAM
    def _grant_runtime_access(
        self,
        image: str,
        artifact: str,
        key: kms.IKey,
        artifact_key: kms.IKey | None,
        data_capture: DataCaptureSpec | None,
    ) -> None:
        artifacts = sorted({v.model_artifact or artifact for v in self.variants})
        object_arns = []
        for uri in artifacts:
            match = _S3_URI.match(uri)
            assert match is not None  # checked in _validate
            object_arns.append(
                cdk.Stack.of(self).format_arn(
                    service="s3",
                    region="",
                    account="",
                    resource=match["bucket"],
                    resource_name=match["key"],
                    arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
                )
            )
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=object_arns))
        if artifact_key is not None:
            artifact_key.grant_decrypt(self.role)
        key.grant(self.role, "kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey")

        ecr = ecr_repository(image)
        if ecr is not None:
            repository_arn = cdk.Stack.of(self).format_arn(
                service="ecr",
                region=ecr.region,
                account=ecr.account,
                resource="repository",
                resource_name=ecr.name,
            )
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                        "ecr:BatchCheckLayerAvailability",
                    ],
                    resources=[repository_arn],
                )
            )
            self.role.add_to_policy(
                iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
            )
            acknowledge(
                self.role,
                "AwsSolutions-IAM5",
                "ecr:GetAuthorizationToken has no resource-level permissions; image pulls are limited to one repository.",
                applies_to=["Resource::*"],
            )

        log_group_arn = cdk.Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=list(SAGEMAKER_LOG_ACTIONS),
                resources=[log_group_arn, f"{log_group_arn}:*"],
            )
        )
        acknowledge_wildcards(
            self.role,
            "Log streams of the endpoint's own log group are created per instance with names unknown in advance.",
            resources=[f"{log_group_arn}:*"],
        )
        if data_capture is not None:
            prefix = data_capture.prefix.strip("/")
            capture_objects = data_capture.bucket.arn_for_objects(f"{prefix}/*")
            self.role.add_to_policy(
                iam.PolicyStatement(actions=["s3:PutObject"], resources=[capture_objects])
            )
            acknowledge_wildcards(
                self.role,
                "Data capture writes one object per endpoint, variant and hour under its own prefix only.",
                resources=[capture_objects],
            )
            capture_key = data_capture.key or data_capture.bucket.encryption_key
            if capture_key is not None:
                capture_key.grant(self.role, "kms:GenerateDataKey", "kms:Encrypt")

    def _grant_vpc_access(self) -> None:
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=list(SAGEMAKER_VPC_ACTIONS),
                resources=["*"],
            )
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5",
            "SageMaker VPC placement: ENI and VPC describe actions accept no resource ARN before the ENI exists.",
            applies_to=["Resource::*"],
        )

    # ------------------------------------------------------------------ endpoint config
    def _production_variant(
        self, variant: VariantSpec
    ) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
        model_name = self.models[variant.name].attr_model_name
        if variant.serverless is not None:
            return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=variant.name,
                model_name=model_name,
                initial_variant_weight=variant.weight,
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    memory_size_in_mb=variant.serverless.memory_size_mb,
                    max_concurrency=variant.serverless.max_concurrency,
                    provisioned_concurrency=variant.serverless.provisioned_concurrency,
                ),
            )
        count = variant.initial_instance_count or (variant.scaling.min_capacity if variant.scaling else 1)
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=variant.name,
            model_name=model_name,
            initial_variant_weight=variant.weight,
            instance_type=variant.instance_type,
            initial_instance_count=count,
        )

    @staticmethod
    def _data_capture(
        spec: DataCaptureSpec | None,
    ) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | None:
        if spec is None:
            return None
        key = spec.key or spec.bucket.encryption_key
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=spec.sampling_percent,
            destination_s3_uri=f"s3://{spec.bucket.bucket_name}/{spec.prefix.strip('/')}",
            kms_key_id=key.key_arn if key is not None else None,
            capture_options=[
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
            ],
            capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                json_content_types=list(spec.json_content_types)
            ),
        )

    def _content_name(self) -> str:
        # Tokens resolve to Ref/GetAtt by logical id, which are stable across synths; the
        # models' properties are included because the config refers to them only by GetAtt.
        stack = cdk.Stack.of(self)
        content: dict[str, Any] = {
            "config": stack.resolve(self.endpoint_config._cfn_properties),
            "models": {name: stack.resolve(m._cfn_properties) for name, m in self.models.items()},
        }
        return hashed_name(self.endpoint_name, content)

    # ------------------------------------------------------------------ deployment
    def _deployment_config(self) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        policy = self.deployment
        routing: dict[str, Any] = {
            "type": policy.traffic_routing,
            "wait_interval_in_seconds": int(durations.in_seconds(policy.wait_interval)),
        }
        if policy.traffic_routing == "CANARY":
            routing["canary_size"] = sagemaker.CfnEndpoint.CapacitySizeProperty(
                type="CAPACITY_PERCENT", value=policy.canary_percent
            )
        elif policy.traffic_routing == "LINEAR":
            routing["linear_step_size"] = sagemaker.CfnEndpoint.CapacitySizeProperty(
                type="CAPACITY_PERCENT", value=policy.linear_step_percent
            )
        else:
            routing.pop("wait_interval_in_seconds")
        rollback = None
        if policy.auto_rollback:
            rollback = sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[
                    sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in self.alarms.values()
                ]
            )
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(**routing),
                termination_wait_in_seconds=int(durations.in_seconds(policy.termination_wait)),
                maximum_execution_timeout_in_seconds=int(durations.in_seconds(policy.max_execution_time)),
            ),
            auto_rollback_configuration=rollback,
        )

    def _retained_variant_properties(self) -> dict[str, Any]:
        if not self.scalable_variants:
            return {}
        # Keep the instance count autoscaling chose instead of resetting it to the new
        # config's initial count; weights and capture settings still come from the config.
        return {
            "retain_all_variant_properties": True,
            "exclude_retained_variant_properties": [
                sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type="DesiredWeight"),
                sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type="DataCaptureConfig"),
            ],
        }

    @property
    def scalable_variants(self) -> list[VariantSpec]:
        return [v for v in self.variants if v.scaling is not None]

    # ------------------------------------------------------------------ metrics and alarms
    def metric(
        self,
        metric_name: str,
        *,
        variant: str | None = None,
        statistic: str = "Sum",
        period: cdk.Duration | None = None,
    ) -> cloudwatch.Metric:
        """A `AWS/SageMaker` metric of one variant (the first variant by default)."""
        name = variant or self.variants[0].name
        if name not in {v.name for v in self.variants}:
            raise ValueError(f"{self.node.path}: no variant {name!r}")
        return cloudwatch.Metric(
            namespace=SAGEMAKER_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": name},
            statistic=statistic,
            period=period or durations.minutes(1),
        )

    def metric_invocations(
        self, *, variant: str | None = None, period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        return self.metric("Invocations", variant=variant, statistic="Sum", period=period)

    def metric_latency(
        self, *, variant: str | None = None, statistic: str = "p99", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """`ModelLatency` of a variant, in microseconds."""
        return self.metric("ModelLatency", variant=variant, statistic=statistic, period=period)

    def metric_errors(
        self, *, variant: str | None = None, period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """Invocations that ended in a 5xx error."""
        return self.metric("Invocation5XXErrors", variant=variant, statistic="Sum", period=period)

    def metric_model_errors(
        self, *, variant: str | None = None, period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """Invocations whose model container did not answer 2xx (including timeouts)."""
        return self.metric("InvocationModelErrors", variant=variant, statistic="Sum", period=period)

    def _across_variants(self, metric_name: str, statistic: str, combine: str) -> cloudwatch.IMetric:
        metrics = {
            f"m{i}": self.metric(metric_name, variant=v.name, statistic=statistic)
            for i, v in enumerate(self.variants)
        }
        if len(metrics) == 1:
            return metrics["m0"]
        return cloudwatch.MathExpression(
            expression=f"{combine}([{','.join(metrics)}])",
            using_metrics=metrics,
            label=f"{metric_name} ({combine.lower()} over variants)",
            period=durations.minutes(1),
        )

    def _rollback_alarms(self, alarm_topic: sns.ITopic | None) -> dict[str, cloudwatch.Alarm]:
        policy = self.deployment
        minutes = policy.alarm_evaluation_minutes
        specs: dict[str, tuple[cloudwatch.IMetric, float, str]] = {
            "Invocation5XXErrors": (
                self._across_variants("Invocation5XXErrors", "Sum", "SUM"),
                policy.error_threshold,
                f"{self.endpoint_name}: 5xx errors per minute at or above {policy.error_threshold}",
            ),
            "ModelErrors": (
                self._across_variants("InvocationModelErrors", "Sum", "SUM"),
                policy.error_threshold,
                f"{self.endpoint_name}: model errors per minute at or above {policy.error_threshold}",
            ),
        }
        if self.latency_slo_ms is not None:
            specs["ModelLatencyP99"] = (
                self._across_variants("ModelLatency", "p99", "MAX"),
                # ModelLatency is reported in microseconds.
                self.latency_slo_ms * _MICROSECONDS_PER_MS,
                f"{self.endpoint_name}: p99 ModelLatency above the {self.latency_slo_ms} ms SLO",
            )
        alarms = {}
        for alarm_id, (metric, threshold, description) in specs.items():
            alarm = cloudwatch.Alarm(
                self,
                f"{alarm_id}Alarm",
                # Named so the retraining pipeline (another stack) can watch it by name.
                alarm_name=rollback_alarm_name(self.endpoint_name, alarm_id),
                metric=metric,
                threshold=threshold,
                comparison_operator=(
                    cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
                    if alarm_id == "ModelLatencyP99"
                    else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
                ),
                evaluation_periods=minutes,
                datapoints_to_alarm=minutes,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            if alarm_topic is not None:
                notify(alarm, alarm_topic)
            alarms[alarm_id] = alarm
        return alarms

    # ------------------------------------------------------------------ autoscaling
    def _autoscale(self, variant: VariantSpec, scaling: ScalingSpec) -> appscaling.ScalableTarget:
        target = appscaling.ScalableTarget(
            self,
            f"Scaling{_logical(variant.name)}",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{variant.name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            role=_scaling_role(self),
        )
        # The variant must exist before Application Auto Scaling can register it.
        target.node.add_dependency(self.endpoint)
        if scaling.target_invocations_per_instance is not None:
            target.scale_to_track_metric(
                "InvocationsPerInstance",
                target_value=scaling.target_invocations_per_instance,
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
                scale_in_cooldown=scaling.scale_in_cooldown,
                scale_out_cooldown=scaling.scale_out_cooldown,
            )
        if scaling.target_latency_ms is not None:
            target.scale_to_track_metric(
                "ModelLatency",
                target_value=scaling.target_latency_ms * _MICROSECONDS_PER_MS,
                custom_metric=self.metric("ModelLatency", variant=variant.name, statistic="Average"),
                scale_in_cooldown=scaling.scale_in_cooldown,
                scale_out_cooldown=scaling.scale_out_cooldown,
            )
        for scheduled in scaling.scheduled:
            target.scale_on_schedule(
                f"Scheduled{_logical(scheduled.name)}",
                schedule=appscaling.Schedule.expression(scheduled.schedule),
                min_capacity=scheduled.min_capacity,
                max_capacity=scheduled.max_capacity,
            )
        return target

    # ------------------------------------------------------------------ grants
    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow `grantee` to call InvokeEndpoint on this endpoint only."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )


def _scaling_role(scope: Construct) -> iam.IRole:
    """The SageMaker service-linked role of Application Auto Scaling, imported once per stack."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child("SageMakerScalingServiceRole")
    if existing is not None:
        return existing  # type: ignore[return-value]
    return iam.Role.from_role_arn(
        stack,
        "SageMakerScalingServiceRole",
        stack.format_arn(service="iam", region="", resource="role", resource_name=SCALING_SERVICE_ROLE),
        mutable=False,
    )


@dataclass(frozen=True)
class EcrRepository:
    account: str
    region: str
    name: str


def ecr_repository(image: str) -> EcrRepository | None:
    """The ECR repository an image URI points at (tag and digest optional), or None if not ECR."""
    match = _ECR_IMAGE.match(image)
    if match is None:
        return None
    return EcrRepository(account=match["account"], region=match["region"], name=match["repo"])


# Families with local NVMe instance storage: a "d" after the generation (m5d, c6id, g4dn,
# p4d, ...) and the GPU/accelerator families whose every size has it.
_LOCAL_STORAGE_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*d[a-z]*$")
_LOCAL_STORAGE_FAMILIES = frozenset({"g5", "g6", "g6e", "p5", "p5e", "p5en"})


def has_local_storage(instance_type: str) -> bool:
    """Whether a SageMaker instance type (``ml.m5d.large``) has local NVMe storage."""
    parts = instance_type.split(".")
    family = parts[1] if len(parts) == 3 else ""
    return family in _LOCAL_STORAGE_FAMILIES or bool(_LOCAL_STORAGE_FAMILY.match(family))


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]+", name) if part)


def _check_artifact(path: str, field_name: str, uri: str) -> None:
    if not _S3_URI.match(uri):
        raise _fail(path, f"{field_name}: {uri!r} is not an s3://bucket/key URI of a model.tar.gz")


def _subnet_selection_kwargs(selection: ec2.SubnetSelection | None) -> dict[str, Any]:
    # No selection means the VPC's private subnets, the CDK default.
    if selection is None:
        return {}
    return {
        k: v
        for k, v in {
            "subnet_type": selection.subnet_type,
            "subnet_group_name": selection.subnet_group_name,
            "subnets": selection.subnets,
            "availability_zones": selection.availability_zones,
            "one_per_az": selection.one_per_az,
        }.items()
        if v is not None
    }
