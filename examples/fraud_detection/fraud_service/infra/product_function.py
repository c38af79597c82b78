"""`ProductFunction`: the platform's `PlatformFunction` with this product's package bundled in.

The bundle holds `fraud_service` (without its CDK code in `infra/`) next to the platform
runtime clients it imports (`lambdas.<domain>`), with the platform's defaults: newest
Python runtime, arm64, X-Ray, a retained encrypted log group, a role without managed policies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.platform_function import POWERTOOLS, PYDANTIC, PlatformFunction

PRODUCT_PACKAGE = Path(__file__).resolve().parent.parent  # fraud_service/


class ProductFunction(PlatformFunction):
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
        super().__init__(
            scope,
            construct_id,
            handler=handler,
            domains=platform_packages,
            extra_packages=[PRODUCT_PACKAGE],
            bundle_exclude=["infra"],
            requirements=requirements,
            key=key,
            environment={"POWERTOOLS_SERVICE_NAME": "fraud-detection", **environment},
            description=description,
            timeout=timeout or cdk.Duration.seconds(10),
            memory_size=memory_size,
        )
