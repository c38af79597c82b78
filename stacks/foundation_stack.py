"""Foundation: the keys, network, buckets and alarm topic every other stack builds on."""

from __future__ import annotations

import hashlib

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib import durations
from constructs_lib.key_policies import allow_cloudwatch_logs
from constructs_lib.secure_bucket import SecureBucket
from constructs_lib.team_budget import BUDGETS_PRINCIPAL
from stacks.config.models import Environment, PlatformConfig

#: Interface endpoints for the AWS APIs that platform functions and endpoints call from the
#: private subnets; S3 and DynamoDB use (free) gateway endpoints.
INTERFACE_ENDPOINTS = {
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
}


def physical_bucket_name(platform: str, environment: Environment, purpose: str) -> str:
    """`<platform>-<env>-<purpose>-<account>-<region>`, shortened with a hash past S3's 63 characters."""
    name = f"{platform}-{environment.name}-{purpose}-{environment.account}-{environment.region}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: 63 - 9]}-{digest}"


class FoundationStack(cdk.Stack):
    """KMS keys, VPC with endpoints, the platform buckets and the alarm topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        environment: Environment,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self._zones = environment.availability_zones
        cdk.Validations.of(self).acknowledge(
            cdk.Acknowledgment(
                id="CloudFormation-Validate::W3010",
                reason="AZ names come from the config (vpc.availability_zones) so synth needs no account lookup.",
            )
        )
        prefix = f"{config.name}-{environment.name}"

        self.data_key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/{prefix}/data",
            description="Encrypts the platform's data stores: buckets, tables, streams, domains, volumes",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.ops_key = kms.Key(
            self,
            "OpsKey",
            alias=f"alias/{prefix}/ops",
            description="Encrypts the platform's operational data: log groups, topics, queues",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self._allow_service_use(self.ops_key, budgets=bool(config.budgets))

        self.alarm_topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"{prefix} platform alarms",
            master_key=self.ops_key,
            enforce_ssl=True,
        )
        if environment.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(environment.alarm_email))

        self.vpc = self._vpc(environment)

        # Literal names let other stacks import the buckets by name: their IAM statements then
        # carry literal ARNs instead of cross-stack exports (see `bucket_for`).
        self.bucket_names = {
            purpose: physical_bucket_name(config.name, environment, purpose)
            for purpose in ("artifacts", "datacapture", "reports")
        }
        self.artifacts_bucket = SecureBucket(
            self,
            "Artifacts",
            bucket_name=self.bucket_names["artifacts"],
            key=self.data_key,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="checkpoints-expire",
                    prefix="checkpoints/",
                    expiration=durations.days(30),
                )
            ],
        ).bucket
        self.data_capture_bucket = SecureBucket(
            self,
            "DataCapture",
            bucket_name=self.bucket_names["datacapture"],
            key=self.data_key,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="capture-to-infrequent-access",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=durations.days(30),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=durations.days(90),
                        ),
                    ],
                )
            ],
        ).bucket
        self.reports_bucket = SecureBucket(
            self, "Reports", bucket_name=self.bucket_names["reports"], key=self.data_key
        ).bucket

        for name, value in {
            "DataKeyArn": self.data_key.key_arn,
            "AlarmTopicArn": self.alarm_topic.topic_arn,
            "VpcId": self.vpc.vpc_id,
        }.items():
            cdk.CfnOutput(self, name, value=value)

    def _allow_service_use(self, key: kms.Key, *, budgets: bool) -> None:
        """Let CloudWatch Logs, alarms, EventBridge and SNS (and Budgets, when the config has
        budgets) use the ops key for this account only.

        The Budgets grant is made here, not by the monitoring stack that holds the budgets:
        parallel synth builds this stack in every worker, so no other stack may change it.
        """
        allow_cloudwatch_logs(self, key)
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmAndEventDelivery",
                principals=[
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("sns.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        if budgets:
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowBudgetAlerts",
                    principals=[iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
                    actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": self.account}},
                )
            )

    def _vpc(self, environment: Environment) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(environment.vpc.cidr),
            max_azs=environment.vpc.max_azs,
            nat_gateways=environment.vpc.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="private",
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                    if environment.vpc.nat_gateways
                    else ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=20,
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            },
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=self.ops_key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        # One security group for all endpoints, open on 443 to the VPC's literal CIDR (the
        # default rule references the CIDR token, which cdk-nag cannot evaluate).
        endpoints_sg = ec2.SecurityGroup(
            self, "EndpointsSecurityGroup", vpc=vpc, description="HTTPS from the VPC to interface endpoints"
        )
        endpoints_sg.add_ingress_rule(
            ec2.Peer.ipv4(environment.vpc.cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
        )
        for name, service in INTERFACE_ENDPOINTS.items():
            vpc.add_interface_endpoint(
                name,
                service=service,
                private_dns_enabled=True,
                open=False,
                security_groups=[endpoints_sg],
                subnets=ec2.SubnetSelection(subnet_group_name="private"),
            )
        return vpc

    def bucket_for(self, scope: Construct, purpose: str) -> s3.IBucket:
        """The platform bucket `purpose` ("artifacts", "datacapture", "reports") imported by name into `scope`'s stack."""
        stack = cdk.Stack.of(scope)
        construct_id = f"Platform{purpose.capitalize()}Bucket"
        existing = stack.node.try_find_child(construct_id)
        if existing is not None:
            return existing  # type: ignore[return-value]
        return s3.Bucket.from_bucket_attributes(
            stack, construct_id, bucket_name=self.bucket_names[purpose], encryption_key=self.data_key
        )

    @property
    def availability_zones(self) -> list[str]:
        # Overridden so that synth never does an availability-zones context lookup.
        return self._zones

    @property
    def private_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name="private")
