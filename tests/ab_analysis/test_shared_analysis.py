"""Experiments that share a stack's analysis function and decisions table (`ExperimentAnalysis`)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.ab_experiment import AbExperiment, ExperimentAnalysis, ExperimentMetric
from constructs_lib.secure_bucket import SecureBucket
from lambdas.ab_analysis.event import Settings, parse_event
from lambdas.common.monitor_event import MONITOR_KEY

pytestmark = pytest.mark.synth
ENDPOINTS = {"fraud-v8": "Fraud-Endpoint", "churn-v2": "churn-endpoint"}


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], ExperimentAnalysis, cdk.Stack]:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Experiments", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    results = SecureBucket(stack, "Results", key=key).bucket
    outcomes = SecureBucket(stack, "Outcomes", key=key).bucket
    shared = ExperimentAnalysis(stack, "Shared", key=key)
    for experiment_id, endpoint in ENDPOINTS.items():
        AbExperiment(
            stack,
            experiment_id,
            experiment_id=experiment_id,
            endpoint_name=endpoint,
            control_variant="blue",
            start_time="2026-05-01T00:00:00Z",
            metrics=[ExperimentMetric(name="revenue", type="mean")],
            results_bucket=results,
            outcomes_bucket=outcomes,
            key=key,
            auto_shift=experiment_id == "fraud-v8",
            shared_analysis=shared,
        )
    app.synth()  # raises on any unacknowledged cdk-nag finding
    return Template.from_stack(stack).to_json(), shared, stack


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def test_one_function_and_one_table_serve_every_experiment(built):
    template = built[0]
    (function,) = _of_type(template, "AWS::Lambda::Function").values()
    assert len(_of_type(template, "AWS::DynamoDB::Table")) == 1
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["ENDPOINT_NAMES"] == "Fraud-Endpoint,churn-endpoint"
    assert "ENDPOINT_NAME" not in variables and "RESULTS_BUCKET" not in variables
    assert function["Properties"]["ReservedConcurrentExecutions"] == 1
    # Every setting the handler needs is in its environment or in each event.
    environment = {k: v if isinstance(v, str) else "resolved-at-deploy" for k, v in variables.items()}
    for event in _events(template):
        settings = Settings.from_event(event[MONITOR_KEY], environment)
        config = parse_event(event).experiment
        assert config.endpoint_name in settings.allowed_endpoints
        assert settings.outcomes_prefix == "ab-outcomes/"


def _events(template: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for rule in _of_type(template, "AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            body = target["InputTransformer"]["InputTemplate"]
            if isinstance(body, dict):
                body = "".join(p if isinstance(p, str) else "bucket" for p in body["Fn::Join"][1])
            out.append(json.loads(body.replace("<time>", '"2026-05-02T10:00:00Z"')))
    return out


def test_experiments_on_one_cadence_share_a_rule(built):
    template = built[0]
    (rule,) = _of_type(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    assert len(rule["Properties"]["Targets"]) == len(ENDPOINTS)
    assert sorted(e["experiment"]["experiment_id"] for e in _events(template)) == sorted(ENDPOINTS)
    assert len(_of_type(template, "AWS::Lambda::Permission")) == 1


def test_each_experiment_adds_only_its_own_endpoint_and_prefixes(built):
    template, shared, stack = built
    role_id = stack.get_logical_id(shared.analysis.role.node.default_child)
    statements = [
        s
        for p in _of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    text = json.dumps(statements)
    for experiment_id in ENDPOINTS:
        assert f"ab-outcomes/{experiment_id}/*" in text and f"ab-results/{experiment_id}/*" in text
    shifts = [s for s in statements if "sagemaker:UpdateEndpointWeightsAndCapacities" in s["Action"]]
    # Only the auto-shifting experiment's endpoint may be re-weighted.
    assert len(shifts) == 1 and "endpoint/fraud-endpoint" in json.dumps(shifts[0]["Resource"])
    assert "endpoint/churn-endpoint" not in json.dumps(shifts[0]["Resource"])


def test_a_shared_experiment_cannot_bring_its_own_table():
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    key = kms.Key(stack, "Key")
    bucket = SecureBucket(stack, "B", key=key).bucket
    shared = ExperimentAnalysis(stack, "Shared", key=key)
    with pytest.raises(ValueError, match="leave decisions_table unset"):
        AbExperiment(
            stack,
            "E",
            experiment_id="e",
            endpoint_name="ep",
            control_variant="a",
            start_time="2026-05-01T00:00:00Z",
            metrics=[ExperimentMetric(name="revenue", type="mean")],
            results_bucket=bucket,
            outcomes_bucket=bucket,
            key=key,
            decisions_table=shared.table,
            shared_analysis=shared,
        )
