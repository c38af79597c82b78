"""DriftMonitor on the synthesized template (bundling skipped), validated by cdk-nag."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.drift_monitor import DRIFT_DETAIL_TYPE, DRIFT_SOURCE, DriftMonitor
from constructs_lib.secure_bucket import SecureBucket

pytestmark = pytest.mark.synth
ENV = cdk.Environment(account="123456789012", region="eu-west-1")


@pytest.fixture(scope="module")
def built():
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Drift", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    data = SecureBucket(stack, "Data", key=key).bucket
    results = SecureBucket(stack, "Results", key=key).bucket
    topic = sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True)
    single = DriftMonitor(
        stack,
        "Fraud",
        model_name="fraud",
        baseline_bucket=results,
        baseline_key="baselines/fraud.json",
        data_bucket=data,
        data_prefix="capture/fraud-endpoint",
        results_bucket=results,
        key=key,
        alarm_topic=topic,
        endpoint_name="fraud-endpoint",
        labels_bucket=data,
        labels_prefix="labels/fraud",
        monitored_features=["amount"],
        drift_config={"alpha": 0.01},
    )
    single.on_drift("ToTopic", targets.SnsTopic(topic))
    distributed = DriftMonitor(
        stack,
        "Churn",
        model_name="churn",
        baseline_bucket=results,
        baseline_key="baselines/churn.json",
        data_bucket=data,
        data_prefix="offline/churn",
        data_format="parquet",
        distributed=True,
        results_bucket=results,
        key=key,
    )
    app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
    return Template.from_stack(stack), single, distributed, stack


def test_scheduled_function_runs_drift_handler_with_settings(built):
    template = built[0]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "lambdas.drift.handler.handler",
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "MODEL_NAME": "fraud",
                        "DATA_FORMAT": "data_capture",
                        "RESULTS_PREFIX": "drift/fraud",
                        "EVENT_BUS_NAME": "default",
                        "WINDOW_HOURS": "24",
                        "DRIFT_CONFIG": json.dumps({"alpha": 0.01}),
                    }
                )
            },
        },
    )


def test_drift_alarm_watches_the_models_drift_metric_and_notifies(built):
    template = built[0]
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "DriftDetected",
            "Namespace": "MLPlatform/Drift",
            "Dimensions": [{"Name": "Model", "Value": "fraud"}],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1,
            "AlarmActions": Match.any_value(),
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "AUC", "ComparisonOperator": "LessThanThreshold", "Threshold": 0.7},
    )


def test_drift_function_may_put_events_on_the_bus(built):
    template = built[0]
    policies = template.find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(s["Action"] == "events:PutEvents" for s in statements)


def test_on_drift_rule_matches_the_retraining_pattern(built):
    template = built[0]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": [DRIFT_SOURCE],
                "detail-type": [DRIFT_DETAIL_TYPE],
                "detail": {"model": ["fraud"]},
            }
        },
    )


def test_distributed_run_is_a_distributed_map_over_the_manifest(built):
    template = built[0]
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == 1
    definition = json.dumps(next(iter(machines.values()))["Properties"]["DefinitionString"])
    assert '\\"Mode\\":\\"DISTRIBUTED\\"' in definition
    assert (
        ":states:::s3:getObject" in definition
        and "Key.$" in definition
        and '\\"InputType\\":\\"JSON\\"' in definition
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp("ChurnStateMachine")}})]},
    )


def test_parquet_workers_get_pyarrow_without_scipy(built):
    distributed = built[2]
    assert distributed.node.try_find_child("ParquetLayer") is not None
    template = built[0]
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "lambdas.drift.map_handler.profile"}
    )


def test_dashboard_has_latency_errors_drift_and_performance(built):
    template = built[0]
    dashboards = template.find_resources("AWS::CloudWatch::Dashboard")
    body = json.dumps([d["Properties"]["DashboardBody"] for d in dashboards.values()])
    for needle in ("ModelLatency", "Invocation5XXErrors", "DriftShare", "FeatureEffect", "AUC"):
        assert needle in body


def test_parquet_without_distributed_is_refused():
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "S", env=ENV)
    key = kms.Key(stack, "K", enable_key_rotation=True)
    bucket = SecureBucket(stack, "B", key=key).bucket
    with pytest.raises(ValueError, match="needs distributed=True"):
        DriftMonitor(
            stack,
            "M",
            model_name="m",
            baseline_bucket=bucket,
            baseline_key="b.json",
            data_bucket=bucket,
            data_prefix="p",
            results_bucket=bucket,
            data_format="parquet",
        )
