"""`protected_table`: a DynamoDB table that holds platform state and cannot lose it.

The table counterpart of `SecureBucket`: on-demand capacity, encrypted with a customer-managed
KMS key, point-in-time recovery, deletion protection, and retained when its stack is deleted.
Keys are strings, as every platform table's are.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct


def protected_table(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey,
    partition_key: str,
    sort_key: str | None = None,
    time_to_live_attribute: str | None = None,
) -> dynamodb.Table:
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING) if sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=time_to_live_attribute,
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
