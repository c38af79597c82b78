"""ModelEndpoint: every option, checked on the synthesized template."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from constructs_lib.model_endpoint import (
    DataCaptureSpec,
    DeploymentPolicy,
    EcrRepository,
    ModelEndpoint,
    ScalingSpec,
    ScheduledCapacity,
    ServerlessSpec,
    VariantSpec,
    ecr_repository,
    has_local_storage,
    rollback_alarm_ids,
    rollback_alarm_name,
)

pytestmark = pytest.mark.synth

ECR_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud-inference:1.4.2"
ARTIFACT = "s3://ml-artifacts/fraud/v7/model.tar.gz"
ENV = cdk.Environment(account="123456789012", region="eu-west-1")

BLUE = VariantSpec(
    name="blue",
    weight=0.9,
    instance_type="ml.m5.large",
    initial_instance_count=2,
    scaling=ScalingSpec(
        min_capacity=2,
        max_capacity=6,
        target_invocations_per_instance=800,
        target_latency_ms=150,
        scale_in_cooldown=cdk.Duration.minutes(10),
        scale_out_cooldown=cdk.Duration.seconds(30),
        scheduled=(ScheduledCapacity("business-hours", "cron(0 7 ? * MON-FRI *)", 3, 6),),
    ),
)
GREEN = VariantSpec(
    name="green",
    weight=0.1,
    instance_type="ml.m5.large",
    model_artifact="s3://ml-artifacts/fraud/v8/model.tar.gz",
)


def _instance_endpoint(stack: cdk.Stack, **overrides) -> ModelEndpoint:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Capture", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    props: dict[str, Any] = {
        "endpoint_name": "fraud",
        "image": ECR_IMAGE,
        "artifact": ARTIFACT,
        "variants": [BLUE, GREEN],
        "key": key,
        "vpc": ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0),
        "data_capture": DataCaptureSpec(bucket=bucket, prefix="capture/fraud/", sampling_percent=25),
        "deployment": DeploymentPolicy(
            traffic_routing="CANARY",
            canary_percent=10,
            wait_interval=cdk.Duration.minutes(10),
            termination_wait=cdk.Duration.minutes(15),
            max_execution_time=cdk.Duration.hours(2),
        ),
        "latency_slo_ms": 250,
        "alarm_topic": sns.Topic(stack, "Alarms"),
        "environment": {"SAGEMAKER_PROGRAM": "inference.py"},
    }
    props.update(overrides)
    return ModelEndpoint(stack, "Fraud", **props)


def _serverless_endpoint(stack: cdk.Stack, **overrides) -> ModelEndpoint:
    props: dict[str, Any] = {
        "endpoint_name": "churn",
        "image": "docker.io/library/churn:1",
        "artifact": "s3://ml-artifacts/churn/model.tar.gz",
        "variants": [VariantSpec("main", serverless=ServerlessSpec(memory_size_mb=3072, max_concurrency=5))],
        "key": kms.Key(stack, "Key", enable_key_rotation=True),
        "deployment": DeploymentPolicy(traffic_routing="LINEAR", linear_step_percent=25, auto_rollback=False),
    }
    props.update(overrides)
    return ModelEndpoint(stack, "Churn", **props)


def _plain_endpoint(stack: cdk.Stack, **overrides: Any) -> ModelEndpoint:
    """The instance endpoint without VPC and capture: enough to compare config names."""
    return _instance_endpoint(stack, **({"vpc": None, "data_capture": None} | overrides))


BUILDERS: dict[str, Callable[[cdk.Stack], ModelEndpoint]] = {
    "Instance": _instance_endpoint,
    "Serverless": _serverless_endpoint,
    "Plain": _plain_endpoint,
    "PlainAgain": _plain_endpoint,
    "ArtifactChanged": lambda s: _plain_endpoint(s, artifact="s3://ml-artifacts/fraud/v9/model.tar.gz"),
    "WeightChanged": lambda s: _plain_endpoint(
        s, variants=[replace(BLUE, weight=0.5), replace(GREEN, weight=0.5)]
    ),
    "AllAtOnce": lambda s: _plain_endpoint(s, deployment=DeploymentPolicy(traffic_routing="ALL_AT_ONCE")),
}


@pytest.fixture(scope="module")
def synthesized() -> dict[str, tuple[Template, ModelEndpoint]]:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    built = {name: build(cdk.Stack(app, name, env=ENV)) for name, build in BUILDERS.items()}
    assembly = app.synth()
    return {
        name: (Template.from_json(assembly.get_stack_by_name(name).template), endpoint)
        for name, endpoint in built.items()
    }


def _only(template: Template, resource_type: str) -> dict:
    (resource,) = template.find_resources(resource_type).values()
    return resource["Properties"]


def test_models_use_image_artifact_network_isolation_and_vpc(synthesized):
    template, _ = synthesized["Instance"]
    models = template.find_resources("AWS::SageMaker::Model")
    assert len(models) == 2
    artifacts = sorted(m["Properties"]["PrimaryContainer"]["ModelDataUrl"] for m in models.values())
    assert artifacts == ["s3://ml-artifacts/fraud/v7/model.tar.gz", "s3://ml-artifacts/fraud/v8/model.tar.gz"]
    for model in models.values():
        props = model["Properties"]
        assert props["EnableNetworkIsolation"] is True
        assert props["PrimaryContainer"]["Image"] == ECR_IMAGE
        assert props["PrimaryContainer"]["Environment"] == {"SAGEMAKER_PROGRAM": "inference.py"}
        assert len(props["VpcConfig"]["Subnets"]) == 2
        assert len(props["VpcConfig"]["SecurityGroupIds"]) == 1


def test_endpoint_config_has_weighted_instance_variants_volume_key_and_capture(synthesized):
    template, _ = synthesized["Instance"]
    config = _only(template, "AWS::SageMaker::EndpointConfig")
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    assert variants["blue"]["InitialVariantWeight"] == 0.9
    assert variants["blue"]["InitialInstanceCount"] == 2
    assert variants["green"]["InitialInstanceCount"] == 1
    assert variants["green"]["InstanceType"] == "ml.m5.large"
    assert "Fn::GetAtt" in config["KmsKeyId"]
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 25
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    assert capture["CaptureContentTypeHeader"] == {"JsonContentTypes": ["application/json"]}
    assert capture["DestinationS3Uri"]["Fn::Join"][1][-1] == "/capture/fraud"
    assert "KmsKeyId" in capture


def test_serverless_variant_has_no_instances_vpc_isolation_or_volume_key(synthesized):
    template, endpoint = synthesized["Serverless"]
    config = _only(template, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    assert "InstanceType" not in variant and "InitialInstanceCount" not in variant
    assert "KmsKeyId" not in config and "DataCaptureConfig" not in config
    model = _only(template, "AWS::SageMaker::Model")
    assert "VpcConfig" not in model and "EnableNetworkIsolation" not in model
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    assert endpoint.scalable_targets == {}


def test_config_change_keeps_endpoint_name_and_changes_config_name(synthesized):
    names = {}
    for stack in ("Plain", "ArtifactChanged", "WeightChanged", "PlainAgain"):
        template, _ = synthesized[stack]
        endpoint = _only(template, "AWS::SageMaker::Endpoint")
        config = _only(template, "AWS::SageMaker::EndpointConfig")
        assert endpoint["EndpointName"] == "fraud"
        names[stack] = config["EndpointConfigName"]
    assert names["Plain"].startswith("fraud-")
    # Same content in another synth (another stack) gives the same name: no needless deployment.
    assert names["Plain"] == names["PlainAgain"]
    assert len({names["Plain"], names["ArtifactChanged"], names["WeightChanged"]}) == 3


def test_endpoint_points_at_its_hashed_config(synthesized):
    template, endpoint = synthesized["Instance"]
    (config_id,) = template.find_resources("AWS::SageMaker::EndpointConfig")
    props = _only(template, "AWS::SageMaker::Endpoint")
    assert props["EndpointConfigName"] == {"Fn::GetAtt": [config_id, "EndpointConfigName"]}
    assert (
        endpoint.endpoint_config_name
        == _only(template, "AWS::SageMaker::EndpointConfig")["EndpointConfigName"]
    )


def test_canary_blue_green_with_rollback_on_three_alarms(synthesized):
    template, endpoint = synthesized["Instance"]
    deployment = _only(template, "AWS::SageMaker::Endpoint")["DeploymentConfig"]
    policy = deployment["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "CANARY",
        "WaitIntervalInSeconds": 600,
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
    }
    assert policy["TerminationWaitInSeconds"] == 900
    assert policy["MaximumExecutionTimeoutInSeconds"] == 7200
    alarm_refs = [a["AlarmName"]["Ref"] for a in deployment["AutoRollbackConfiguration"]["Alarms"]]
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert sorted(alarm_refs) == sorted(alarms)
    assert set(endpoint.alarms) == {"Invocation5XXErrors", "ModelErrors", "ModelLatencyP99"}


def test_latency_alarm_is_p99_model_latency_in_microseconds_over_all_variants(synthesized):
    template, _ = synthesized["Instance"]
    alarm_id = template.find_resources("AWS::CloudWatch::Alarm")
    latency = next(a["Properties"] for a in alarm_id.values() if "p99" in a["Properties"]["AlarmDescription"])
    assert latency["Threshold"] == 250_000
    assert latency["ComparisonOperator"] == "GreaterThanThreshold"
    expression = next(m for m in latency["Metrics"] if "Expression" in m)
    assert expression["Expression"].startswith("MAX(")
    stats = {m["MetricStat"]["Stat"] for m in latency["Metrics"] if "MetricStat" in m}
    variants = {
        d["Value"]
        for m in latency["Metrics"]
        if "MetricStat" in m
        for d in m["MetricStat"]["Metric"]["Dimensions"]
    }
    assert stats == {"p99"}
    assert {"blue", "green", "fraud"} <= variants
    assert all(a["Properties"]["AlarmActions"] for a in alarm_id.values())


def test_error_alarms_sum_5xx_and_model_errors(synthesized):
    template, _ = synthesized["Instance"]
    names = set()
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        for metric in alarm["Properties"].get("Metrics", []):
            if "MetricStat" in metric:
                names.add(metric["MetricStat"]["Metric"]["MetricName"])
    assert {"Invocation5XXErrors", "InvocationModelErrors", "ModelLatency"} == names


def test_linear_routing_without_rollback(synthesized):
    template, endpoint = synthesized["Serverless"]
    deployment = _only(template, "AWS::SageMaker::Endpoint")["DeploymentConfig"]
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "LINEAR"
    assert routing["LinearStepSize"] == {"Type": "CAPACITY_PERCENT", "Value": 25}
    assert "AutoRollbackConfiguration" not in deployment
    # The alarms still exist for dashboards and paging, just not wired to rollback.
    assert "ModelLatencyP99" not in endpoint.alarms


def test_all_at_once_routing_has_no_step_or_wait(synthesized):
    template, _ = synthesized["AllAtOnce"]
    routing = _only(template, "AWS::SageMaker::Endpoint")["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"
    ]
    assert routing == {"Type": "ALL_AT_ONCE"}
    config = _only(template, "AWS::SageMaker::EndpointConfig")
    assert "DataCaptureConfig" not in config
    assert all(
        "VpcConfig" not in m["Properties"] for m in template.find_resources("AWS::SageMaker::Model").values()
    )


def test_autoscaling_only_for_variants_with_scaling(synthesized):
    template, endpoint = synthesized["Instance"]
    target = _only(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["ResourceId"] == "endpoint/fraud/variant/blue"
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert target["ServiceNamespace"] == "sagemaker"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    # Application Auto Scaling's own service-linked role: no IAM role per variant.
    roles = template.find_resources("AWS::IAM::Role").values()
    assert not [r for r in roles if "application-autoscaling" in json.dumps(r)]
    role_arn = json.dumps(target["RoleARN"])
    assert "role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/" in role_arn
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in role_arn
    (action,) = target["ScheduledActions"]
    assert action["Schedule"] == "cron(0 7 ? * MON-FRI *)"
    assert action["ScalableTargetAction"] == {"MinCapacity": 3, "MaxCapacity": 6}
    assert set(endpoint.scalable_targets) == {"blue"}
    (target_id,) = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    (endpoint_id,) = template.find_resources("AWS::SageMaker::Endpoint")
    assert (
        endpoint_id
        in template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")[target_id]["DependsOn"]
    )


def test_target_tracking_on_invocations_and_latency_with_separate_cooldowns(synthesized):
    template, _ = synthesized["Instance"]
    policies = [
        p["Properties"]
        for p in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    ]
    assert len(policies) == 2
    configs = [p["TargetTrackingScalingPolicyConfiguration"] for p in policies]
    for config in configs:
        assert (config["ScaleInCooldown"], config["ScaleOutCooldown"]) == (600, 30)
    invocations = next(c for c in configs if "PredefinedMetricSpecification" in c)
    assert (
        invocations["PredefinedMetricSpecification"]["PredefinedMetricType"]
        == "SageMakerVariantInvocationsPerInstance"
    )
    assert invocations["TargetValue"] == 800
    latency = next(c for c in configs if "CustomizedMetricSpecification" in c)
    assert latency["TargetValue"] == 150_000
    assert latency["CustomizedMetricSpecification"]["MetricName"] == "ModelLatency"
    assert latency["CustomizedMetricSpecification"]["Statistic"] == "Average"


def test_autoscaled_endpoint_retains_instance_count_across_updates(synthesized):
    template, _ = synthesized["Instance"]
    endpoint = _only(template, "AWS::SageMaker::Endpoint")
    assert endpoint["RetainAllVariantProperties"] is True
    excluded = {p["VariantPropertyType"] for p in endpoint["ExcludeRetainedVariantProperties"]}
    assert excluded == {"DesiredWeight", "DataCaptureConfig"}
    serverless, _ = synthesized["Serverless"]
    assert "RetainAllVariantProperties" not in _only(serverless, "AWS::SageMaker::Endpoint")


def _statements(template: Template) -> list[dict]:
    statements = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def test_execution_role_reads_only_its_artifacts_and_pulls_only_its_repository(synthesized):
    template, _ = synthesized["Instance"]
    statements = _statements(template)
    reads = next(s for s in statements if s["Action"] == "s3:GetObject")
    rendered = json.dumps(reads["Resource"])
    assert (
        "ml-artifacts/fraud/v7/model.tar.gz" in rendered and "ml-artifacts/fraud/v8/model.tar.gz" in rendered
    )
    pulls = next(s for s in statements if "ecr:BatchGetImage" in s["Action"])
    assert "repository/fraud-inference" in json.dumps(pulls["Resource"])
    writes = next(s for s in statements if s["Action"] == "s3:PutObject")
    assert "/capture/fraud/*" in json.dumps(writes["Resource"])
    logs = next(s for s in statements if "logs:PutLogEvents" in s["Action"])
    assert "/aws/sagemaker/Endpoints/fraud" in json.dumps(logs["Resource"])
    assert not any(s["Action"] in ("s3:*", "sagemaker:*", "*") for s in statements)


def test_non_ecr_image_grants_no_ecr_access(synthesized):
    template, _ = synthesized["Serverless"]
    assert not any("ecr:" in json.dumps(s["Action"]) for s in _statements(template))


def test_grant_invoke_and_metrics():
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Grant", env=ENV)
    endpoint = _serverless_endpoint(stack)
    from aws_cdk import aws_iam as iam

    role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    grant = endpoint.grant_invoke(role)
    assert grant.success
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "sagemaker:InvokeEndpoint",
                        "Effect": "Allow",
                        "Resource": {"Ref": Match.any_value()},
                    }
                ]
            },
            "Roles": [{"Ref": Match.string_like_regexp("Caller")}],
        },
    )
    assert endpoint.metric_invocations().metric_name == "Invocations"
    latency = endpoint.metric_latency()
    assert (latency.metric_name, latency.statistic) == ("ModelLatency", "p99")
    assert latency.dimensions == {"EndpointName": "churn", "VariantName": "main"}
    assert endpoint.metric_errors().metric_name == "Invocation5XXErrors"
    assert endpoint.metric_model_errors().metric_name == "InvocationModelErrors"
    with pytest.raises(ValueError, match="no variant 'other'"):
        endpoint.metric_invocations(variant="other")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"variants": [replace(BLUE, weight=0), replace(GREEN, weight=0)]}, "sum to a positive value"),
        ({"variants": [replace(BLUE, weight=-1), GREEN]}, "sum to a positive value"),
        ({"variants": []}, "at least one production variant"),
        ({"variants": [BLUE, replace(GREEN, name="blue")]}, "names must be unique"),
        ({"latency_slo_ms": None}, "latency_slo_ms is required when deployment.auto_rollback is on"),
        ({"endpoint_name": "bad_name"}, "endpoint_name 'bad_name'"),
        ({"artifact": "https://example.com/model.tar.gz"}, "is not an s3://bucket/key URI"),
        (
            {"variants": [replace(BLUE, instance_type=None, scaling=None)]},
            "needs either instance_type or serverless",
        ),
        (
            {"variants": [replace(BLUE, initial_instance_count=9)]},
            "initial_instance_count 9 is outside scaling bounds 2..6",
        ),
        (
            {"variants": [replace(BLUE, scaling=ScalingSpec(min_capacity=3, max_capacity=2))]},
            "min_capacity <= max_capacity",
        ),
        (
            {"deployment": DeploymentPolicy(canary_percent=0)},
            "canary_percent must be 1-100",
        ),
        (
            {"deployment": DeploymentPolicy(max_execution_time=cdk.Duration.minutes(5))},
            "max_execution_time must be 600-28800 s, got 300 s",
        ),
        (
            {"deployment": DeploymentPolicy(wait_interval=cdk.Duration.hours(2))},
            "wait_interval must be 0-3600 s",
        ),
        (
            {
                "deployment": DeploymentPolicy(
                    traffic_routing="LINEAR",
                    linear_step_percent=10,
                    wait_interval=cdk.Duration.minutes(10),
                    max_execution_time=cdk.Duration.hours(1),
                )
            },
            r"must exceed the baking time of a LINEAR deployment \(6300 s",
        ),
    ],
)
def test_bad_instance_endpoint_settings_fail_with_a_clear_message(overrides, message):
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(ValueError, match=message):
        _instance_endpoint(stack, **overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"variants": [VariantSpec("main", serverless=ServerlessSpec(memory_size_mb=1000))]},
            "memory_size_mb must be 1024-6144",
        ),
        (
            {
                "variants": [
                    VariantSpec(
                        "main", serverless=ServerlessSpec(max_concurrency=5, provisioned_concurrency=6)
                    )
                ]
            },
            "provisioned_concurrency must be 1..max_concurrency",
        ),
        (
            {"variants": [VariantSpec("main", serverless=ServerlessSpec(), instance_type="ml.m5.large")]},
            "'main' is serverless but also sets instance_type",
        ),
        (
            {"variants": [VariantSpec("main", serverless=ServerlessSpec(), scaling=ScalingSpec())]},
            "is serverless but also sets scaling",
        ),
        (
            {
                "variants": [
                    VariantSpec("main", serverless=ServerlessSpec()),
                    VariantSpec("b", instance_type="ml.m5.large"),
                ]
            },
            "serverless variant must be the endpoint's only variant",
        ),
    ],
)
def test_bad_serverless_settings_fail_with_a_clear_message(overrides, message):
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(ValueError, match=message):
        _serverless_endpoint(stack, **overrides)


def test_serverless_rejects_data_capture():
    stack = cdk.Stack(cdk.App(), "Bad")
    bucket = s3.Bucket(stack, "B")
    with pytest.raises(ValueError, match="does not capture data from serverless"):
        _serverless_endpoint(stack, data_capture=DataCaptureSpec(bucket=bucket, prefix="c"))


def test_serverless_rejects_vpc():
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(ValueError, match="serverless variants cannot be placed in a VPC"):
        _serverless_endpoint(stack, vpc=ec2.Vpc(stack, "V", nat_gateways=0))


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (ECR_IMAGE, EcrRepository("123456789012", "eu-west-1", "fraud-inference")),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/fraud",
            EcrRepository("123456789012", "us-east-1", "team/fraud"),
        ),
        (
            "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference@sha256:" + "a" * 64,
            EcrRepository("763104351884", "eu-west-1", "pytorch-inference"),
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/m:1",
            EcrRepository("123456789012", "cn-north-1", "m"),
        ),
        ("docker.io/library/churn:1", None),
        ("public.ecr.aws/org/model:1", None),
    ],
)
def test_ecr_repository_is_read_from_image_uris(image, expected):
    assert ecr_repository(image) == expected


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [
        ("ml.m5.large", False),
        ("ml.c7g.xlarge", False),
        ("ml.inf1.xlarge", False),
        ("ml.m5d.large", True),
        ("ml.c6id.2xlarge", True),
        ("ml.g4dn.xlarge", True),
        ("ml.p4d.24xlarge", True),
        ("ml.g5.2xlarge", True),
    ],
)
def test_local_storage_instance_types_are_recognised(instance_type, expected):
    assert has_local_storage(instance_type) is expected


def test_local_storage_variant_drops_the_volume_key():
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Nvme", env=ENV)
    _plain_endpoint(stack, variants=[replace(BLUE, instance_type="ml.g4dn.xlarge")])
    config = _only(Template.from_stack(stack), "AWS::SageMaker::EndpointConfig")
    assert "KmsKeyId" not in config


def test_rollback_alarms_have_predictable_names_for_other_stacks(synthesized):
    template, endpoint = synthesized["Instance"]
    names = {a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    expected = {rollback_alarm_name("fraud", alarm_id) for alarm_id in rollback_alarm_ids(250)}
    assert names == expected == {"fraud-Invocation5XXErrors", "fraud-ModelErrors", "fraud-ModelLatencyP99"}
    assert set(endpoint.alarms) == set(rollback_alarm_ids(endpoint.latency_slo_ms))
    _, serverless = synthesized["Serverless"]
    assert set(serverless.alarms) == set(rollback_alarm_ids(None)) == {"Invocation5XXErrors", "ModelErrors"}
