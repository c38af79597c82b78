"""AbExperiment synthesized once (with cdk-nag) for the module: resources, wiring, least privilege."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.ab_experiment import AbExperiment, ExperimentMetric, cadence_from_rate
from constructs_lib.secure_bucket import SecureBucket
from lambdas.ab_analysis.event import parse_event

pytestmark = pytest.mark.synth

METRICS = (
    ExperimentMetric(name="revenue", type="mean", mde=0.02),
    ExperimentMetric(
        name="refunds",
        type="proportion",
        guardrail=True,
        margin=0.01,
        margin_type="absolute",
        higher_is_better=False,
    ),
)


def _experiment(stack: cdk.Stack, construct_id: str, **overrides: Any) -> AbExperiment:
    key = stack.node.try_find_child("Key") or kms.Key(stack, "Key", enable_key_rotation=True)
    assert isinstance(key, kms.Key)
    buckets = []
    for name in ("Results", "Outcomes"):
        existing = stack.node.try_find_child(name)
        buckets.append(
            existing.bucket
            if isinstance(existing, SecureBucket)
            else SecureBucket(stack, name, key=key).bucket
        )
    props: dict[str, Any] = {
        "experiment_id": "fraud-v8-vs-v7",
        "endpoint_name": "Fraud-Endpoint",
        "control_variant": "blue",
        "start_time": "2026-05-01T00:00:00Z",
        "metrics": METRICS,
        "results_bucket": buckets[0],
        "outcomes_bucket": buckets[1],
        "key": key,
        "auto_shift": True,
        "planned_sample": 200_000,
    }
    props.update(overrides)
    return AbExperiment(stack, construct_id, **props)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Template, AbExperiment]:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")), context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    shifting = cdk.Stack(app, "AbShift", env=env)
    experiment = _experiment(shifting, "Experiment")
    advisory = cdk.Stack(app, "AbAdvise", env=env)
    _experiment(advisory, "Experiment", auto_shift=False, cadence=cdk.Duration.minutes(30))
    experiment.grant_read_decisions(
        cdk.aws_iam.Role(
            shifting, "Dashboard", assumed_by=cdk.aws_iam.ServicePrincipal("lambda.amazonaws.com")
        )
    )
    assembly = app.synth()  # fails with ValidationFailed on any unacknowledged cdk-nag finding

    def template(stack: cdk.Stack) -> Template:
        return Template.from_json(
            json.loads(Path(assembly.get_stack_by_name(stack.stack_name).template_full_path).read_text())
        )

    return template(shifting), template(advisory), experiment


def test_decisions_table_is_retained_pitr_cmk_keyed_by_experiment_and_window(built: Any) -> None:
    shifting, _, _ = built
    shifting.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "KeySchema": [
                        {"AttributeName": "experiment_id", "KeyType": "HASH"},
                        {"AttributeName": "window", "KeyType": "RANGE"},
                    ],
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
                    "DeletionProtectionEnabled": True,
                }
            ),
        },
    )


def test_function_runs_the_handler_with_the_analysis_layer_and_its_environment(built: Any) -> None:
    shifting, _, _ = built
    functions = shifting.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "lambdas.ab_analysis.handler.handler"}}
    )
    [function] = functions.values()
    props = function["Properties"]
    assert props["ReservedConcurrentExecutions"] == 1
    assert len(props["Layers"]) == 1
    env = props["Environment"]["Variables"]
    assert set(env) >= {
        "DECISIONS_TABLE",
        "RESULTS_BUCKET",
        "OUTCOMES_BUCKET",
        "ENDPOINT_NAME",
        "RESULTS_PREFIX",
        "OUTCOMES_PREFIX",
    }
    assert env["ENDPOINT_NAME"] == "Fraud-Endpoint"


def test_schedule_sends_the_validated_experiment_and_the_event_time(built: Any) -> None:
    shifting, advisory, _ = built
    [rule] = shifting.find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    target_input = rule["Properties"]["Targets"][0]["InputTransformer"]
    assert target_input["InputPathsMap"] == {"time": "$.time"}
    assert "<time>" in target_input["InputTemplate"]
    sent = json.loads(target_input["InputTemplate"].replace("<time>", '"2026-05-01T10:00:00Z"'))
    parsed = parse_event(sent)
    assert parsed.experiment.experiment_id == "fraud-v8-vs-v7"
    assert parsed.experiment.ramp == [10, 50, 100]
    assert parsed.experiment.auto_shift is True
    [advisory_rule] = advisory.find_resources("AWS::Events::Rule").values()
    assert advisory_rule["Properties"]["ScheduleExpression"] == "rate(30 minutes)"


def _statements(template: Template) -> list[dict[str, Any]]:
    return [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def test_only_this_endpoint_can_be_reweighted_and_only_with_auto_shift(built: Any) -> None:
    shifting, advisory, _ = built
    [update] = [
        s for s in _statements(shifting) if "sagemaker:UpdateEndpointWeightsAndCapacities" in _actions(s)
    ]
    resource = json.dumps(update["Resource"])
    assert "endpoint/fraud-endpoint" in resource
    assert "*" not in resource
    assert not [
        s for s in _statements(advisory) if "sagemaker:UpdateEndpointWeightsAndCapacities" in _actions(s)
    ]
    assert [s for s in _statements(advisory) if "sagemaker:DescribeEndpoint" in _actions(s)]


def test_s3_access_is_limited_to_the_experiment_prefixes(built: Any) -> None:
    shifting, _, _ = built
    statements = _statements(shifting)
    [put] = [s for s in statements if _actions(s) == ["s3:PutObject"]]
    assert "/ab-results/fraud-v8-vs-v7/*" in json.dumps(put["Resource"])
    [get] = [s for s in statements if _actions(s) == ["s3:GetObject"]]
    assert "/ab-outcomes/fraud-v8-vs-v7/*" in json.dumps(get["Resource"])
    [listing] = [s for s in statements if _actions(s) == ["s3:ListBucket"]]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["ab-outcomes/fraud-v8-vs-v7/*"]}}


def test_metric_helpers_name_the_handler_metrics(built: Any) -> None:
    _, _, experiment = built
    metric = experiment.metric_decisions("rollback")
    assert metric.metric_name == "DecisionRollback"
    assert metric.namespace == "MLPlatform/ABTesting"
    assert experiment.metric_sample_ratio_mismatch().metric_name == "SampleRatioMismatch"


def test_invalid_experiment_settings_fail_at_synth_naming_the_field() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Bad")
    with pytest.raises(ValueError, match=r"ramp: .*last ramp step must be 100"):
        _experiment(stack, "Experiment", ramp=(10, 50))
    with pytest.raises(ValueError, match=r"'fraud-v8-vs-v7'.*decision metric"):
        _experiment(stack, "Experiment2", metrics=(METRICS[1],))


@pytest.mark.parametrize(
    ("expression", "minutes"),
    [("rate(1 hour)", 60), ("rate(30 minutes)", 30), ("rate(2 hours)", 120), ("rate(1 day)", 1440)],
)
def test_cadence_from_rate_expressions(expression: str, minutes: int) -> None:
    assert cadence_from_rate(expression).to_minutes() == minutes


def test_cron_schedules_are_refused_with_the_alternative() -> None:
    with pytest.raises(ValueError, match=r"use a rate expression"):
        cadence_from_rate("cron(0 * * * ? *)")
