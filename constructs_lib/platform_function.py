"""`PlatformFunction`: a Python Lambda function bundled without Docker, with safe defaults.

Defaults: the newest Python runtime aws-cdk-lib knows, arm64, X-Ray tracing, a log group
of its own (retained, one-year retention, optionally KMS-encrypted) and a role holding only
what the function uses: no AWS-managed policies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib import durations
from constructs_lib.local_bundling import REPO_ROOT, BundleSpec, LayerSize, PipLocalBundler
from constructs_lib.nag import acknowledge

#: The newest Python runtime in aws-cdk-lib 2.275; pip targets the same version.
DEFAULT_RUNTIME = lambda_.Runtime.PYTHON_3_14
DEFAULT_ARCHITECTURE = lambda_.Architecture.ARM_64
LAMBDAS_DIR = REPO_ROOT / "lambdas"

#: Powertools for AWS Lambda, pinned to the major version the handlers are tested with.
POWERTOOLS = "aws-lambda-powertools[tracer]>=3.37,<4"
PYDANTIC = "pydantic>=2.6,<3"


def runtime_python_version(runtime: lambda_.Runtime) -> str:
    return runtime.name.removeprefix("python")


def pip_architecture(architecture: lambda_.Architecture) -> str:
    return "aarch64" if architecture.name == lambda_.Architecture.ARM_64.name else "x86_64"


class BundledLayer(Construct):
    """A Lambda layer bundled by pip on the host; records its unzipped size for the 250 MB check."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        requirements: Sequence[str],
        description: str,
        runtime: lambda_.Runtime = DEFAULT_RUNTIME,
        architecture: lambda_.Architecture = DEFAULT_ARCHITECTURE,
    ) -> None:
        super().__init__(scope, construct_id)
        spec = BundleSpec(
            name=self.node.path,
            requirements=tuple(requirements),
            target_subdir="python",
            python_version=runtime_python_version(runtime),
            architecture=pip_architecture(architecture),
        )
        self.size = LayerSize(name=self.node.path, spec=spec)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=_bundled_code(spec, runtime, self.size),
            compatible_runtimes=[runtime],
            compatible_architectures=[architecture],
            description=description,
        )


class PlatformFunction(Construct):
    """A bundled Python Lambda function.

    `handler` is the dotted entry point (``"lambdas.drift.handler.handler"``); `domains`
    names the packages under `lambdas/` it needs. The bundle always holds
    `lambdas/__init__.py` and `lambdas/common`, so imports are absolute everywhere.
    A product team adds its own top-level packages with `extra_packages` (directories,
    bundled under their own names; `bundle_exclude` leaves out e.g. its CDK code) and may
    name no platform domain at all.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        domains: Sequence[str],
        requirements: Sequence[str] = (POWERTOOLS, PYDANTIC),
        extra_packages: Sequence[Path] = (),
        bundle_exclude: Sequence[str] = (),
        layers: Sequence[BundledLayer] = (),
        environment: Mapping[str, str] | None = None,
        timeout: cdk.Duration | None = None,
        memory_size: int = 512,
        description: str | None = None,
        key: kms.IKey | None = None,
        reserved_concurrent_executions: int | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        runtime: lambda_.Runtime = DEFAULT_RUNTIME,
        architecture: lambda_.Architecture = DEFAULT_ARCHITECTURE,
        function_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        missing = [f"lambdas/{d}" for d in domains if not (LAMBDAS_DIR / d / "__init__.py").is_file()]
        missing += [str(p) for p in extra_packages if not (Path(p) / "__init__.py").is_file()]
        if missing:
            raise ValueError(
                f"{self.node.path}: no Python package at {missing[0]} (a directory with __init__.py)"
            )
        if not domains and not extra_packages:
            raise ValueError(f"{self.node.path}: name the code to bundle with domains or extra_packages")

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {self.node.path}",
        )
        self.log_group.grant_write(self.role)
        if vpc is not None:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            )
        self._add_tracing_policy()

        spec = BundleSpec(
            name=self.node.path,
            requirements=tuple(requirements),
            source_files=(LAMBDAS_DIR / "__init__.py",),
            source_dirs=(LAMBDAS_DIR / "common", *(LAMBDAS_DIR / d for d in domains)),
            extra_packages=tuple(Path(p).resolve() for p in extra_packages),
            exclude=tuple(bundle_exclude),
            python_version=runtime_python_version(runtime),
            architecture=pip_architecture(architecture),
            layer_sizes=tuple(layer.size for layer in layers),
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=runtime,
            architecture=architecture,
            handler=handler,
            code=_bundled_code(spec, runtime),
            layers=[layer.layer for layer in layers],
            environment={
                "POWERTOOLS_SERVICE_NAME": domains[0] if domains else Path(extra_packages[0]).name,
                **(environment or {}),
            },
            environment_encryption=key,
            timeout=timeout or durations.seconds(30),
            memory_size=memory_size,
            description=description,
            role=self.role,
            log_group=self.log_group,
            reserved_concurrent_executions=reserved_concurrent_executions,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
            dead_letter_queue=dead_letter_queue,
            function_name=function_name,
        )
        # Tracing is switched on at the L1 level so that its wildcard X-Ray permissions live in
        # a policy of their own, acknowledged alone, instead of in the function's main policy.
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        if vpc is not None:
            acknowledge(
                self.role,
                "AwsSolutions-IAM5",
                "Lambda VPC networking: ENI management actions accept no resource ARN before the ENI exists.",
                applies_to=["Resource::*"],
            )

    def _add_tracing_policy(self) -> None:
        policy = iam.Policy(
            self,
            "TracingPolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                    resources=["*"],
                )
            ],
        )
        policy.attach_to_role(self.role)
        acknowledge(
            policy,
            "AwsSolutions-IAM5",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (service authorization reference).",
            applies_to=["Resource::*"],
        )


def _bundled_code(spec: BundleSpec, runtime: lambda_.Runtime, size: LayerSize | None = None) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(LAMBDAS_DIR if spec.source_dirs else Path(__file__).parent),
        asset_hash=spec.cache_key(),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        bundling=cdk.BundlingOptions(
            image=runtime.bundling_image,
            # jsii calls try_bundle(output_dir, options) positionally, unlike its typed stub.
            local=cast(cdk.ILocalBundling, PipLocalBundler(spec, on_size=size)),
        ),
    )
