"""Key policy statements that let AWS services use a customer-managed key on the platform's behalf."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def allow_cloudwatch_logs(scope: Construct, key: kms.IKey, log_groups: str = "*") -> None:
    """Let CloudWatch Logs encrypt the log groups named by `log_groups` (a name pattern) with `key`.

    The encryption-context condition keeps the grant to this account's log groups that match.
    """
    stack = cdk.Stack.of(scope)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=log_groups,
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
