"""cdk-nag AwsSolutions and cfn-lint find nothing wrong in an endpoint + prediction API stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint

from constructs_lib.model_endpoint import DataCaptureSpec, ModelEndpoint, ScalingSpec, VariantSpec
from constructs_lib.nag import acknowledge, acknowledgements
from constructs_lib.prediction_api import PredictionApi, PredictionModel
from constructs_lib.secure_bucket import SecureBucket
from lambdas.serving.request_schema import FeatureSpec, schema_for_features

pytestmark = pytest.mark.synth


def test_endpoint_and_api_pass_aws_solutions_checks_and_cfn_lint(tmp_path):
    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Serving", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    acknowledge(
        vpc, "AwsSolutions-VPC7", "Test fixture VPC; the platform VPC in the foundation stack has flow logs."
    )
    endpoint = ModelEndpoint(
        stack,
        "Fraud",
        endpoint_name="fraud",
        image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud:1",
        artifact="s3://ml-artifacts/fraud/model.tar.gz",
        variants=[
            VariantSpec("blue", instance_type="ml.m5.large", scaling=ScalingSpec(target_latency_ms=100))
        ],
        key=key,
        vpc=vpc,
        data_capture=DataCaptureSpec(
            bucket=SecureBucket(stack, "Capture", key=key).bucket, prefix="capture/fraud"
        ),
        latency_slo_ms=200,
        alarm_topic=sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True),
    )
    schema = schema_for_features("fraud", [FeatureSpec("amount", "float")])
    PredictionApi(
        stack,
        "Api",
        api_name="predictions",
        models=[PredictionModel("fraud", endpoint, "v1", schema)],
        key=key,
    )

    app.synth()  # raises ValidationFailed on any unacknowledged finding

    template = (tmp_path / "Serving.template.json").read_text()
    errors = [
        m for m in lint(template, config=ManualArgs(regions=["eu-west-1"])) if m.rule.id.startswith("E")
    ]
    assert errors == []

    rules = {record.rule for record in acknowledgements(stack)}
    assert "AwsSolutions-IAM5[Resource::*]" in rules
    assert any(r.startswith("AwsSolutions-IAM5[Resource::") and "capture/fraud/*" in r for r in rules)
