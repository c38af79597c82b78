"""Helpers that save jsii round trips give the same templates as the calls they replace."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam

from constructs_lib import durations
from constructs_lib.iam_statements import add_statement
from constructs_lib.nag import acknowledge, acknowledgements


def test_one_duration_object_per_length_and_its_seconds_known_in_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert durations.minutes(3) is durations.minutes(3)
    assert durations.minutes(3) is not durations.seconds(3)
    made = [durations.seconds(45), durations.minutes(3), durations.hours(2), durations.days(1)]
    expected = [45, 180, 7200, 86400]
    assert [d.to_seconds() for d in made] == expected  # as aws-cdk-lib converts them

    def no_round_trip(self: cdk.Duration) -> float:
        raise AssertionError("to_seconds called")

    monkeypatch.setattr(cdk.Duration, "to_seconds", no_round_trip)
    assert [durations.in_seconds(d) for d in made] == expected


def test_a_duration_made_elsewhere_is_converted_by_aws_cdk_lib_with_its_checks() -> None:
    assert durations.in_seconds(cdk.Duration.minutes(90)) == 5400
    with pytest.raises(RuntimeError, match="cannot be converted into a whole number of seconds"):
        durations.in_seconds(cdk.Duration.millis(1500))


def _policy_statements(stack: cdk.Stack) -> list[dict[str, object]]:
    policies = assertions.Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_add_statement_reaches_a_roles_and_an_imported_roles_policy() -> None:
    stack = cdk.Stack(cdk.App(), "Roles")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    imported = iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::111122223333:role/other")
    add_statement(role, iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::a/x"]))
    add_statement(imported, iam.PolicyStatement(actions=["s3:PutObject"], resources=["arn:aws:s3:::b/y"]))
    statements = _policy_statements(stack)
    assert {"Action": "s3:GetObject", "Effect": "Allow", "Resource": "arn:aws:s3:::a/x"} in statements
    assert {"Action": "s3:PutObject", "Effect": "Allow", "Resource": "arn:aws:s3:::b/y"} in statements


def test_repeated_acknowledgements_on_one_construct_all_land() -> None:
    stack = cdk.Stack(cdk.App(), "Acks")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    acknowledge(role, "AwsSolutions-IAM5", "first reason, long enough to be specific", ["Resource::a"])
    acknowledge(role, "AwsSolutions-IAM4", "second reason, long enough to be specific")
    rules = sorted(record.rule for record in acknowledgements(stack) if record.path == role.node.path)
    assert rules == ["AwsSolutions-IAM4", "AwsSolutions-IAM5[Resource::a]"]
