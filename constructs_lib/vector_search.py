"""`VectorSearchDomain`: a hardened OpenSearch Service domain for k-NN indices.

Private subnets only, fine-grained access control with an IAM master role (the index manager
function, which creates indices, ISM policies and role mappings), CMK encryption at rest,
node-to-node encryption, HTTPS with TLS 1.2+ (PFS ciphers), dedicated masters and zone
awareness on by default, slow-search / slow-index / application / audit logs in CloudWatch,
optional UltraWarm and cold storage, and alarms for the failure modes of k-NN clusters.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_sns as sns
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_lib import durations
from constructs_lib.alarm_actions import notify
from constructs_lib.nag import acknowledge
from constructs_lib.platform_function import PlatformFunction

DEFAULT_ENGINE_VERSION = opensearch.EngineVersion.OPENSEARCH_2_19
READ_ACTIONS = ("es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost")
WRITE_ACTIONS = ("es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete")
LOG_TYPES = ("SlowSearch", "SlowIndex", "Application", "Audit")


class VectorSearchDomain(Construct):
    """An OpenSearch domain for vector search, with its index manager and alarms.

    Exposes `domain`, `security_group`, `log_groups`, `alarms`, `index_manager` (the
    PlatformFunction behind the KnnIndex custom resources, which is the FGAC master user) and
    `provider` (its custom resource provider).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        key: kms.IKey,
        log_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        domain_name: str | None = None,
        engine_version: opensearch.EngineVersion = DEFAULT_ENGINE_VERSION,
        data_node_instance_type: str = "r6g.large.search",
        data_nodes: int = 2,
        volume_size_gb: int = 100,
        dedicated_master: bool = True,
        master_node_instance_type: str = "m6g.large.search",
        master_nodes: int = 3,
        zone_awareness: bool = True,
        availability_zone_count: int = 2,
        warm_node_instance_type: str | None = None,
        warm_nodes: int = 0,
        cold_storage: bool = False,
        subnet_type: ec2.SubnetType = ec2.SubnetType.PRIVATE_WITH_EGRESS,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        jvm_memory_pressure_threshold: float = 85.0,
        free_storage_fraction_threshold: float = 0.25,
    ) -> None:
        super().__init__(scope, construct_id)
        self._validate(
            data_nodes,
            zone_awareness,
            availability_zone_count,
            dedicated_master,
            master_nodes,
            warm_nodes,
            warm_node_instance_type,
            cold_storage,
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"OpenSearch domain {self.node.path}: HTTPS from granted functions only",
            allow_all_outbound=False,
        )
        self.log_groups = {
            log_type: logs.LogGroup(
                self,
                f"{log_type}Logs",
                retention=log_retention,
                encryption_key=log_key,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            for log_type in LOG_TYPES
        }
        # CDK's default adds this policy through a custom resource Lambda; a plain
        # AWS::Logs::ResourcePolicy does the same without extra functions.
        logs_policy = logs.ResourcePolicy(
            self,
            "LogsResourcePolicy",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("es.amazonaws.com")],
                    actions=["logs:PutLogEvents", "logs:CreateLogStream"],
                    resources=[group.log_group_arn for group in self.log_groups.values()],
                    conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
                )
            ],
        )

        subnets = vpc.select_subnets(subnet_type=subnet_type, one_per_az=True).subnets
        az_count = availability_zone_count if zone_awareness else 1
        function_subnets = ec2.SubnetSelection(subnet_type=subnet_type)
        self.index_manager = PlatformFunction(
            self,
            "IndexManager",
            handler="lambdas.vector_search.index_handler.handler",
            domains=["vector_search"],
            description="Creates and updates k-NN indices, ISM policies and FGAC role mappings",
            timeout=durations.minutes(5),
            memory_size=256,
            key=log_key,
            vpc=vpc,
            vpc_subnets=function_subnets,
        )
        # A fixed name lets the access policy name the domain without a circular reference, and
        # makes CloudFormation refuse (instead of perform) a replacement of this data store.
        self.domain_name = domain_name or f"vectors-{self.node.addr[:10]}"
        self.domain = opensearch.Domain(
            self,
            "Domain",
            version=engine_version,
            domain_name=self.domain_name,
            vpc=vpc,
            vpc_subnets=[ec2.SubnetSelection(subnets=subnets[:az_count])],
            security_groups=[self.security_group],
            capacity=opensearch.CapacityConfig(
                data_node_instance_type=data_node_instance_type,
                data_nodes=data_nodes,
                master_node_instance_type=master_node_instance_type if dedicated_master else None,
                master_nodes=master_nodes if dedicated_master else None,
                warm_instance_type=warm_node_instance_type if warm_nodes else None,
                warm_nodes=warm_nodes or None,
                multi_az_with_standby_enabled=False,
            ),
            zone_awareness=opensearch.ZoneAwarenessConfig(
                enabled=zone_awareness,
                availability_zone_count=availability_zone_count if zone_awareness else None,
            ),
            ebs=opensearch.EbsOptions(volume_size=volume_size_gb, volume_type=ec2.EbsDeviceVolumeType.GP3),
            cold_storage_enabled=cold_storage or None,
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=key),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
            fine_grained_access_control=opensearch.AdvancedSecurityOptions(
                master_user_arn=self.index_manager.role.role_arn
            ),
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True,
                slow_search_log_group=self.log_groups["SlowSearch"],
                slow_index_log_enabled=True,
                slow_index_log_group=self.log_groups["SlowIndex"],
                app_log_enabled=True,
                app_log_group=self.log_groups["Application"],
                audit_log_enabled=True,
                audit_log_group=self.log_groups["Audit"],
            ),
            suppress_logs_resource_policy=True,
            enable_version_upgrade=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.domain.node.add_dependency(logs_policy)
        self._restrict_to_account()
        self.allow_https_from(self.index_manager.function)
        self.index_manager.function.add_environment("OPENSEARCH_ENDPOINT", self.domain.domain_endpoint)
        self._grant(self.index_manager.role, WRITE_ACTIONS, ["*"])
        acknowledge(
            self.index_manager.role,
            "AwsSolutions-IAM5",
            "The index manager is the FGAC master user: it manages indices, ISM policies and security "
            "roles under every path of this one domain.",
            applies_to=[f"Resource::<{self.domain_logical_id()}.Arn>/*"],
        )
        self.provider = self._provider(log_key)
        acknowledge(
            self.domain,
            "AwsSolutions-OS3",
            "The domain lives in private subnets behind a security group; IP allow-lists do not apply "
            "to VPC domains, access is by IAM identity and fine-grained access control.",
        )
        self.alarms = self._alarms(
            alarm_topic,
            jvm_memory_pressure_threshold,
            free_storage_fraction_threshold * volume_size_gb * 1024,
        )

    def _restrict_to_account(self) -> None:
        """Resource policy: signed requests from this account's IAM identities only.

        Set on the L1 resource: the L2 `access_policies` prop applies the policy through an
        extra custom resource Lambda after the domain exists.
        """
        stack = cdk.Stack.of(self)
        cfn_domain = self.domain.node.default_child
        assert isinstance(cfn_domain, opensearch.CfnDomain)
        cfn_domain.access_policies = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{stack.partition}:iam::{stack.account}:root"},
                    "Action": "es:ESHttp*",
                    "Resource": stack.format_arn(
                        service="es", resource="domain", resource_name=f"{self.domain_name}/*"
                    ),
                }
            ],
        }

    @staticmethod
    def _validate(
        data_nodes: int,
        zone_awareness: bool,
        az_count: int,
        dedicated_master: bool,
        master_nodes: int,
        warm_nodes: int,
        warm_type: str | None,
        cold_storage: bool,
    ) -> None:
        if zone_awareness and az_count not in (2, 3):
            raise ValueError(f"availability_zone_count must be 2 or 3 with zone awareness, got {az_count}")
        if zone_awareness and data_nodes % az_count:
            raise ValueError(
                f"data_nodes ({data_nodes}) must be a multiple of availability_zone_count ({az_count})"
            )
        if dedicated_master and master_nodes not in (3, 5):
            raise ValueError(f"master_nodes must be 3 or 5 for a quorum, got {master_nodes}")
        if warm_nodes and not warm_type:
            raise ValueError("warm_nodes needs warm_node_instance_type")
        if warm_nodes and not dedicated_master:
            raise ValueError("UltraWarm needs dedicated master nodes")
        if cold_storage and not warm_nodes:
            raise ValueError("cold_storage needs UltraWarm nodes (warm_nodes > 0)")

    def domain_logical_id(self) -> str:
        """The domain's logical id, as cdk-nag names it in findings (`<id>.Arn`)."""
        return _logical_id(self.domain)

    def _provider(self, log_key: kms.IKey | None) -> cr.Provider:
        framework_role = iam.Role(
            self,
            "ProviderRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Custom resource framework of {self.node.path}",
        )
        framework_logs = logs.LogGroup(
            self,
            "ProviderLogs",
            retention=logs.RetentionDays.ONE_YEAR,
            encryption_key=log_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        framework_logs.grant_write(framework_role)
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.index_manager.function,
            framework_on_event_role=framework_role,
            log_group=framework_logs,
            provider_function_env_encryption=log_key,
        )
        acknowledge(
            framework_role,
            "AwsSolutions-IAM5",
            "The custom resource framework invokes the index manager by ARN, including its versions (:*).",
            applies_to=[
                f"Resource::<{_logical_id(self.index_manager.function)}.Arn>:*",
            ],
        )
        acknowledge(
            provider,
            "AwsSolutions-L1",
            "The provider framework function's runtime is chosen by aws-cdk-lib, not by this construct.",
        )
        return provider

    def _alarms(
        self, topic: sns.ITopic | None, jvm_threshold: float, free_storage_mb: float
    ) -> dict[str, cloudwatch.Alarm]:
        one_minute = durations.minutes(1)
        five_minutes = durations.minutes(5)
        specs: Sequence[tuple[str, cloudwatch.IMetric, float, int, cloudwatch.ComparisonOperator, str]] = (
            (
                "ClusterRed",
                self.domain.metric_cluster_status_red(period=one_minute, statistic="Maximum"),
                1,
                1,
                cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                "At least one primary shard is unassigned: searches miss data and writes fail.",
            ),
            (
                "ClusterYellow",
                self.domain.metric_cluster_status_yellow(period=one_minute, statistic="Maximum"),
                1,
                5,
                cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                "Replica shards unassigned for 5 minutes: one more node loss can lose data.",
            ),
            (
                "JvmMemoryPressure",
                self.domain.metric_jvm_memory_pressure(period=five_minutes, statistic="Maximum"),
                jvm_threshold,
                3,
                cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                "JVM heap pressure high for 15 minutes: risk of circuit breakers and node crashes.",
            ),
            (
                "FreeStorageSpace",
                self.domain.metric_free_storage_space(period=one_minute, statistic="Minimum"),
                free_storage_mb,
                1,
                cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
                "A data node has at most the configured share of its volume free (MB): writes block at the watermark.",
            ),
            (
                "KnnCircuitBreaker",
                self.domain.metric("KNNCircuitBreakerTriggered", period=one_minute, statistic="Maximum"),
                1,
                1,
                cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                "k-NN graphs no longer fit native memory: searches fail until memory frees or nodes are added.",
            ),
        )
        alarms: dict[str, cloudwatch.Alarm] = {}
        for name, metric, threshold, periods, comparison, description in specs:
            alarm = cloudwatch.Alarm(
                self,
                f"{name}Alarm",
                metric=metric,
                threshold=threshold,
                evaluation_periods=periods,
                comparison_operator=comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            if topic is not None:
                notify(alarm, topic)
            alarms[name] = alarm
        return alarms

    def allow_https_from(self, other: ec2.IConnectable) -> None:
        self.domain.connections.allow_default_port_from(other, "HTTPS to the OpenSearch domain")

    def _grant(self, grantee: iam.IGrantable, actions: Sequence[str], paths: Sequence[str]) -> iam.Grant:
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[f"{self.domain.domain_arn}/{path}" for path in paths],
        )
        wildcards = [path for path in paths if "*" in path]
        if wildcards and isinstance(grantee, Construct):
            acknowledge(
                grantee,
                "AwsSolutions-IAM5",
                "OpenSearch HTTP permissions are per request path: an index family is a path prefix "
                "(<alias>, <alias>-<fingerprint>, and their documents and APIs below).",
                applies_to=[f"Resource::<{self.domain_logical_id()}.Arn>/{path}" for path in wildcards],
            )
        return grant

    def grant_read(self, grantee: iam.IGrantable, *, indices: Sequence[str] = ("*",)) -> iam.Grant:
        """HTTP read (GET/HEAD, and POST for _search) on the given index names or patterns.

        IAM is the outer gate; under fine-grained access control the grantee's role must also
        be mapped to an OpenSearch role (KnnIndex does this for its readers and writers).
        """
        return self._grant(grantee, READ_ACTIONS, [p for i in indices for p in (i, f"{i}/*")])

    def grant_write(self, grantee: iam.IGrantable, *, indices: Sequence[str] = ("*",)) -> iam.Grant:
        """HTTP write on the given indices plus `_bulk` (bulk requests are addressed to the domain root)."""
        paths = [p for i in indices for p in (i, f"{i}/*")] + ["_bulk"]
        return self._grant(grantee, WRITE_ACTIONS, paths)

    def metric_knn_circuit_breaker(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """1 while k-NN graphs do not fit the native memory budget on some node, else 0."""
        return self.domain.metric("KNNCircuitBreakerTriggered", statistic="Maximum", period=period)


def _logical_id(construct: Construct) -> str:
    resource = construct.node.default_child
    if not isinstance(resource, cdk.CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return str(cdk.Stack.of(construct).resolve(resource.logical_id))
