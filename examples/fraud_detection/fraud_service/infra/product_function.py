"""`ProductFunction`: a Lambda function whose code is this product's package plus the platform's
runtime clients, bundled on the host without Docker.

The platform's `PlatformFunction` bundles only packages under the platform's own
``lambdas/`` directory, so a product team's package cannot go through it (reported
upstream). This construct keeps its conventions (newest Python runtime, arm64, X-Ray, a
retained log group, a role without managed policies) and reuses its pip platform
arguments, so the wheels are the ones the platform would pick.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

import lambdas
from constructs_lib.local_bundling import BundleSpec, pip_platform_args
from constructs_lib.nag import acknowledge
from constructs_lib.platform_function import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_RUNTIME,
    POWERTOOLS,
    PYDANTIC,
    pip_architecture,
    runtime_python_version,
)

PRODUCT_PACKAGE = Path(__file__).resolve().parent.parent  # fraud_service/
PLATFORM_LAMBDAS = Path(lambdas.__file__).resolve().parent
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "infra")


@jsii.implements(cdk.ILocalBundling)
class ProductBundler:
    """pip installs the requirements for the Lambda platform, then copies the packages."""

    def __init__(
        self, requirements: Sequence[str], platform_packages: Sequence[str], python: str, arch: str
    ) -> None:
        self._requirements = tuple(requirements)
        self._platform_packages = tuple(platform_packages)
        self._spec = BundleSpec(
            name="fraud_service", requirements=self._requirements, python_version=python, architecture=arch
        )

    def asset_hash(self) -> str:
        """Requirements, target and every source file bundled: two functions with different
        packages or requirements must not share an asset just because the root folder matches."""
        digest = hashlib.sha256()
        for part in (
            *self._requirements,
            *self._platform_packages,
            self._spec.python_version,
            self._spec.architecture,
        ):
            digest.update(part.encode() + b"\0")
        roots = [PRODUCT_PACKAGE, *(PLATFORM_LAMBDAS / p for p in ("common", *self._platform_packages))]
        files = [PLATFORM_LAMBDAS / "__init__.py"] + [
            f
            for root in roots
            for f in sorted(root.rglob("*.py"))
            if "infra" not in f.relative_to(root).parts
        ]
        for file in files:
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
        return digest.hexdigest()

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        out = Path(output_dir)
        if self._requirements:
            command = [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--target",
                str(out),
                *pip_platform_args(self._spec),
                *self._requirements,
            ]
            subprocess.run(command, check=True, capture_output=True, text=True)
        shutil.copytree(PRODUCT_PACKAGE, out / PRODUCT_PACKAGE.name, ignore=_SKIP, dirs_exist_ok=True)
        (out / "lambdas").mkdir(exist_ok=True)
        shutil.copy2(PLATFORM_LAMBDAS / "__init__.py", out / "lambdas" / "__init__.py")
        for package in ("common", *self._platform_packages):
            shutil.copytree(
                PLATFORM_LAMBDAS / package, out / "lambdas" / package, ignore=_SKIP, dirs_exist_ok=True
            )
        return True


class ProductFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        platform_packages: Sequence[str],
        key: kms.IKey,
        environment: Mapping[str, str],
        description: str,
        requirements: Sequence[str] = (POWERTOOLS, PYDANTIC),
        timeout: cdk.Duration | None = None,
        memory_size: int = 1024,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_YEAR,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.log_group.grant_write(self.role)
        tracing = iam.Policy(
            self,
            "TracingPolicy",
            statements=[
                iam.PolicyStatement(
                    actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
                )
            ],
        )
        tracing.attach_to_role(self.role)
        acknowledge(
            tracing,
            "AwsSolutions-IAM5",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
            applies_to=["Resource::*"],
        )
        bundler = ProductBundler(
            requirements,
            platform_packages,
            runtime_python_version(DEFAULT_RUNTIME),
            pip_architecture(DEFAULT_ARCHITECTURE),
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=DEFAULT_RUNTIME,
            architecture=DEFAULT_ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(
                str(PRODUCT_PACKAGE),
                asset_hash=bundler.asset_hash(),
                asset_hash_type=cdk.AssetHashType.CUSTOM,
                # jsii protocols and mypy disagree on try_bundle's signature; jsii.implements is the contract.
                bundling=cdk.BundlingOptions(image=DEFAULT_RUNTIME.bundling_image, local=bundler),  # type: ignore[arg-type]
            ),
            environment={"POWERTOOLS_SERVICE_NAME": "fraud-detection", **environment},
            environment_encryption=key,
            timeout=timeout or cdk.Duration.seconds(10),
            memory_size=memory_size,
            description=description,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.DISABLED,
        )
        cfn = self.function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        # Tracing set on the L1 so its wildcard permissions stay in the acknowledged policy above.
        cfn.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
