"""Monitors that share a stack's drift and performance functions (`MonitoringFunctions`)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.drift_monitor import DriftMonitor
from constructs_lib.monitoring_functions import MonitoringFunctions
from constructs_lib.secure_bucket import SecureBucket
from lambdas.common.monitor_event import MONITOR_KEY
from lambdas.drift.settings import Settings as DriftSettings
from lambdas.model_monitoring.handler import Settings as PerformanceSettings

pytestmark = pytest.mark.synth
MODELS = ("fraud", "churn", "upsell")


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], dict[str, DriftMonitor], MonitoringFunctions]:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Monitors", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    data = SecureBucket(stack, "Data", key=key).bucket
    results = SecureBucket(stack, "Results", key=key).bucket
    topic = sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True)
    shared = MonitoringFunctions(stack, "Shared", key=key, alarm_topic=topic)
    monitors = {
        model: DriftMonitor(
            stack,
            f"Drift-{model}",
            model_name=model,
            baseline_bucket=results,
            baseline_key=f"baselines/{model}.json",
            data_bucket=data,
            data_prefix=f"capture/{model}-endpoint",
            results_bucket=results,
            key=key,
            alarm_topic=topic,
            # Only two of the three have labels: performance still runs in one function.
            labels_bucket=data if model != "upsell" else None,
            labels_prefix=f"labels/{model}",
            drift_config={"alpha": 0.01},
            shared_functions=shared,
        )
        for model in MODELS
    }
    app.synth()  # raises on any unacknowledged cdk-nag finding
    return Template.from_stack(stack).to_json(), monitors, shared


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _scheduled_events(template: dict[str, Any], handler_logical_id: str) -> list[dict[str, Any]]:
    """The resolved event each schedule sends to the function, with the time filled in."""
    out = []
    for rule in _of_type(template, "AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            if target["Arn"]["Fn::GetAtt"][0] != handler_logical_id:
                continue
            transformer = target["InputTransformer"]
            assert transformer["InputPathsMap"] == {"time": "$.time"}
            body = transformer["InputTemplate"]
            # Bucket names are Refs here; the platform imports its buckets by literal name.
            if isinstance(body, dict):
                body = "".join(
                    p if isinstance(p, str) else f"bucket-{p['Ref'][:6].lower()}" for p in body["Fn::Join"][1]
                )
            out.append(json.loads(body.replace("<time>", '"2026-03-10T12:00:00Z"')))
    return out


def test_one_drift_and_one_performance_function_serve_all_monitors(built):
    template, monitors, shared = built
    handlers = sorted(
        f["Properties"]["Handler"] for f in _of_type(template, "AWS::Lambda::Function").values()
    )
    assert handlers == ["lambdas.drift.handler.handler", "lambdas.model_monitoring.handler.handler"]
    assert len(_of_type(template, "AWS::IAM::Role")) == 2
    assert {m.function.node.path for m in monitors.values()} == {shared.drift.function.node.path}
    assert monitors["upsell"].performance_function is None
    assert monitors["fraud"].performance_function is shared.performance


def test_each_schedule_sends_its_models_settings_which_the_handlers_accept(built):
    template, _, shared = built
    stack = cdk.Stack.of(shared)
    drift_id = stack.get_logical_id(shared.drift.function.node.default_child)
    performance_id = stack.get_logical_id(shared.performance.function.node.default_child)
    drift_events = _scheduled_events(template, drift_id)
    assert sorted(e[MONITOR_KEY]["MODEL_NAME"] for e in drift_events) == sorted(MODELS)
    for event in drift_events:
        settings = DriftSettings.from_env(event[MONITOR_KEY], source="event.monitor")
        model = settings.model_name
        assert settings.baseline_uri.endswith(f"/baselines/{model}.json")
        assert settings.data_uri.endswith(f"/capture/{model}-endpoint/")
        assert settings.prefix == f"drift/{model}"
        assert settings.drift_config.alpha == 0.01
        assert set(event[MONITOR_KEY]) <= set(DriftSettings.variable_names())
    performance_events = _scheduled_events(template, performance_id)
    assert sorted(e[MONITOR_KEY]["MODEL_NAME"] for e in performance_events) == ["churn", "fraud"]
    for event in performance_events:
        assert set(event[MONITOR_KEY]) <= set(PerformanceSettings.variable_names())
        settings = PerformanceSettings.from_env(event[MONITOR_KEY], source="event.monitor")
        assert settings.labels_uri.endswith(f"/labels/{settings.model_name}/")


def test_shared_role_reads_only_the_monitors_prefixes(built):
    template, _, shared = built
    stack = cdk.Stack.of(shared)
    role_id = stack.get_logical_id(shared.drift.role.node.default_child)
    statements = [
        s
        for p in _of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    text = json.dumps(statements)
    for model in MODELS:
        assert f"/capture/{model}-endpoint/*" in text and f"/baselines/{model}.json" in text
        assert f"/drift/{model}/*" in text
    # Object wildcards only ever cover one monitor's own prefixes, never a whole bucket
    # (X-Ray's Resource "*" is the function's tracing policy).
    objects = {
        r
        for s in statements
        if not s["Action"][0].startswith("xray:")
        for r in json.dumps(s["Resource"]).split('"')
        if r.endswith("*")
    }
    assert objects == {f"/capture/{m}-endpoint/*" for m in MODELS} | {f"/drift/{m}/*" for m in MODELS}


def test_model_failures_alarm_per_model_and_crashes_per_function(built):
    template, _, shared = built
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    failure = [
        a["Properties"]
        for a in alarms.values()
        if "drift check of fraud failed" in a["Properties"].get("AlarmDescription", "")
    ]
    (props,) = failure
    metrics = [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    # Only the model's own DriftRunErrors: the shared function's Errors name no model.
    assert [(m["MetricName"], m["Dimensions"]) for m in metrics] == [
        ("DriftRunErrors", [{"Name": "Model", "Value": "fraud"}])
    ]
    function_alarms = [
        a["Properties"] for a in alarms.values() if "shared" in a["Properties"]["AlarmDescription"]
    ]
    assert len(function_alarms) == 2 == len(shared.alarms)
    assert all(a["MetricName"] == "Errors" and a["AlarmActions"] for a in function_alarms)


def test_shared_functions_do_not_run_distributed_checks():
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    key = kms.Key(stack, "Key")
    bucket = SecureBucket(stack, "B", key=key).bucket
    with pytest.raises(ValueError, match="shared_functions runs the single-process drift check"):
        DriftMonitor(
            stack,
            "M",
            model_name="m",
            baseline_bucket=bucket,
            baseline_key="b.json",
            data_bucket=bucket,
            data_prefix="p",
            results_bucket=bucket,
            distributed=True,
            shared_functions=MonitoringFunctions(stack, "Shared", key=key),
        )


def test_models_on_one_schedule_share_rules_of_five_targets(built):
    template, _, _ = built
    rules = _of_type(template, "AWS::Events::Rule")
    # Three drift checks and two performance checks, all daily: one rule, five targets.
    assert [len(r["Properties"]["Targets"]) for r in rules.values()] == [5]
    (rule,) = rules.values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 day)"
    # A function may be invoked by a rule once, whatever the number of its targets there.
    assert len(_of_type(template, "AWS::Lambda::Permission")) == 2


def test_shared_schedules_open_a_new_rule_per_expression_and_every_five_targets():
    from aws_cdk import aws_events as events
    from aws_cdk import aws_events_targets as targets
    from aws_cdk import aws_sqs as sqs

    from constructs_lib.shared_schedules import SharedSchedules

    stack = cdk.Stack(cdk.App(), "S")
    queue = sqs.Queue(stack, "Q", enforce_ssl=True)
    schedules = SharedSchedules(stack, "Schedules", description="test")
    daily, hourly = events.Schedule.rate(cdk.Duration.days(1)), events.Schedule.rate(cdk.Duration.hours(1))
    used = [schedules.add(daily, targets.SqsQueue(queue)) for _ in range(7)]
    used.append(schedules.add(hourly, targets.SqsQueue(queue)))
    assert [used.index(rule) for rule in used] == [0, 0, 0, 0, 0, 5, 5, 7]
    rules = Template.from_stack(stack).find_resources("AWS::Events::Rule")
    assert sorted(
        (r["Properties"]["ScheduleExpression"], len(r["Properties"]["Targets"])) for r in rules.values()
    ) == [("rate(1 day)", 2), ("rate(1 day)", 5), ("rate(1 hour)", 1)]
