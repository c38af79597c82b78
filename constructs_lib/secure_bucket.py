"""`SecureBucket`: an S3 bucket that holds platform data and cannot lose it.

Retained on stack deletion, versioned, encrypted with a customer-managed KMS key (bucket
keys on, to keep KMS request costs down), TLS enforced, public access blocked, server access
logs written to the stack's access-log bucket.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import durations
from constructs_lib.nag import acknowledge

ACCESS_LOGS_ID = "AccessLogsBucket"


class AccessLogsBucket(Construct):
    """The per-stack bucket that receives S3 server access logs.

    S3 delivers server access logs only to buckets encrypted with SSE-S3, not SSE-KMS, so
    this bucket uses S3-managed keys. One per stack, because a cross-stack log target would
    make the two stacks depend on each other through the target's bucket policy.
    """

    def __init__(self, scope: Construct, construct_id: str, *, retention: cdk.Duration) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=retention,
                    noncurrent_version_expiration=durations.days(30),
                )
            ],
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This is the access-log target bucket itself; logging it into itself would loop.",
        )

    @classmethod
    def of(cls, scope: Construct, retention: cdk.Duration | None = None) -> s3.IBucket:
        stack = cdk.Stack.of(scope)
        existing = stack.node.try_find_child(ACCESS_LOGS_ID)
        if isinstance(existing, AccessLogsBucket):
            return existing.bucket
        return cls(stack, ACCESS_LOGS_ID, retention=retention or durations.days(400)).bucket


class SecureBucket(Construct):
    """A retained, versioned, KMS-encrypted, TLS-only, private bucket with access logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        bucket_name: str | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
        object_lock: bool = False,
        object_lock_retention: s3.ObjectLockRetention | None = None,
        noncurrent_version_retention_days: int | None = 90,
        event_bridge_enabled: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        rules = list(lifecycle_rules)
        if noncurrent_version_retention_days is not None:
            rules.append(
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=durations.days(noncurrent_version_retention_days),
                    abort_incomplete_multipart_upload_after=durations.days(7),
                )
            )
        logs_bucket = server_access_logs_bucket or AccessLogsBucket.of(self)
        self.key = key
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix=f"{cdk.Names.unique_id(self)[-60:]}/",
            lifecycle_rules=rules or None,
            object_lock_enabled=object_lock or None,
            object_lock_default_retention=object_lock_retention,
            event_bridge_enabled=event_bridge_enabled or None,
        )
