"""`flatten_reference`: how cdk-nag spells a resource in an IAM5 finding, with and without jsii."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from constructs_lib.nag import _flatten, flatten_reference


def test_strings_flattened_in_python_match_cdks_own_resolution() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    bucket = s3.Bucket(stack, "B")
    values = [
        "arn:aws:s3:::literal/*",
        f"arn:{cdk.Aws.PARTITION}:s3:::b/x/*",
        f"arn:{cdk.Aws.PARTITION}:sagemaker:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:training-job/*",
        f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:*:log-group:/aws/*.{cdk.Aws.URL_SUFFIX}",
        bucket.arn_for_objects("runs/*"),  # a resource token: resolved through jsii
        f"{bucket.bucket_arn}/x/{cdk.Aws.PARTITION}",
    ]
    for value in values:
        assert flatten_reference(stack, value) == _flatten(stack.resolve(value)), value
    assert flatten_reference(stack, values[2]) == (
        "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/*"
    )
