"""The retraining definition as data (`lambdas.training.pipeline_definition`, `lambdas.common.asl`).

What the definition does when it runs is tested in test_pipeline.py, in moto's Step Functions
interpreter; these tests cover the data itself.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from lambdas.common.asl import JsonPath, check_graph, render
from lambdas.training.pipeline_definition import (
    Deployment,
    RetrainingRun,
    StepArns,
    TrainingSet,
    definition,
    invoked_functions,
)

STEPS = StepArns(**{name: f"arn:fn:{name}" for name in StepArns.__dataclass_fields__})
RUN = RetrainingRun(
    model_name="fraud",
    partition="aws",
    steps=STEPS,
    artifact_bucket="artifacts",
    training_request={"TrainingJobName": JsonPath("$.attempt.jobName"), "RoleArn": "arn:role"},
    model_package_group="fraud-retraining",
    metric_name="validation:auc",
    metric_direction="maximize",
    metric_margin=0.0,
    instance_count=1,
    hourly_price=None,
    inference_image="serve:1",
    approval_mode="manual",
    feature_fingerprint="abc",
    approval_timeout_seconds=3600,
    lock_ttl_seconds=7200,
    timeout_seconds=7200,
    poll_seconds=60,
    capacity_retry_interval_seconds=300,
    capacity_retry_attempts=3,
    capacity_retry_backoff=2.0,
)
DEPLOYMENT = Deployment(
    endpoint_name="fraud",
    variant_name=None,
    alarm_names=["fraud-errors"],
    canary_percent=10,
    canary_wait_seconds=600,
    execution_role_arn="arn:role",
    baseline_key="baselines/fraud/profile.json",
    excluded_columns=["label"],
)
TRAINING_SET = TrainingSet("arn:fn:query", {"entity_source": "s", "timestamp_column": "t", "requests": []})
VARIANTS = {
    "register only": RUN,
    "deploy": replace(RUN, deployment=DEPLOYMENT),
    "training set and deploy": replace(RUN, deployment=DEPLOYMENT, training_set=TRAINING_SET),
}


def test_render_writes_paths_as_dollar_keys_and_leaves_out_nones():
    rendered = render(
        {"a": JsonPath("$.x"), "b": {"c": JsonPath("$$.Task.Token"), "d": None}, "e": [{"f": 1}]}
    )
    assert rendered == {"a.$": "$.x", "b": {"c.$": "$$.Task.Token"}, "e": [{"f": 1}]}
    with pytest.raises(ValueError, match="cannot be a list item"):
        render({"a": [JsonPath("$.x")]})


def test_graph_check_names_a_missing_target_and_unreachable_states():
    with pytest.raises(ValueError, match="'Nowhere', which is not a state"):
        check_graph({"A": {"Type": "Pass", "Next": "Nowhere"}}, "A")
    with pytest.raises(ValueError, match=r"states \['B'\] cannot be reached"):
        check_graph({"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}, "A")
    branch = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}],
    }
    with pytest.raises(ValueError, match="P/: a transition names 'Y'"):
        check_graph({"P": {**branch, "End": True}}, "P")


@pytest.mark.parametrize("run", VARIANTS.values(), ids=VARIANTS.keys())
def test_every_variant_is_a_whole_graph_and_invokes_exactly_what_its_role_may(run: RetrainingRun):
    body = definition(run)
    check_graph(body["States"], body["StartAt"])  # definition() checks too; a second look costs nothing
    called = _functions_called(body)
    assert called == set(invoked_functions(run))
    assert len(invoked_functions(run)) == len(called)
    # In parameters, a value read from the state must sit under a ".$" key, or it is a literal.
    assert _unmarked_paths(body) == []
    text = json.dumps(body)
    assert ("StartDeploy" in text) == (run.deployment is not None)
    assert ("BuildTrainingSet" in text) == (run.training_set is not None)


def test_values_the_caller_leaves_out_stay_out_of_payloads():
    states = definition(replace(RUN, deployment=DEPLOYMENT))["States"]["Run"]["Branches"][0]["States"]
    assert "hourly_price" not in states["EvaluateModel"]["Parameters"]
    assert "variant_name" not in states["StartDeploy"]["Parameters"]


def _functions_called(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        resource = node.get("Resource")
        if isinstance(resource, str) and resource.startswith("arn:fn:"):
            found.add(resource)
        name = node.get("FunctionName")
        if isinstance(name, str):
            found.add(name)
        for value in node.values():
            found |= _functions_called(value)
    elif isinstance(node, list):
        for value in node:
            found |= _functions_called(value)
    return found


def _unmarked_paths(node: Any, in_parameters: bool = False) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            inside = in_parameters or key in ("Parameters", "ResultSelector")
            if inside and isinstance(value, str) and value.startswith("$") and not key.endswith(".$"):
                found.append(f"{key}: {value}")
            found += _unmarked_paths(value, inside)
    elif isinstance(node, list):
        for value in node:
            found += _unmarked_paths(value, in_parameters)
    return found
