"""The default platform synthesizes with cdk-nag on, passes cfn-lint, and keeps data safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlplatform.cloud_assembly import SynthesizedStack, nag_acknowledgements, read_stacks
from stacks.nag_report import generate

pytestmark = pytest.mark.synth

DATA_STORE_TYPES = {
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::KMS::Key",
    "AWS::OpenSearchService::Domain",
    "AWS::Kinesis::Stream",
    "AWS::Logs::LogGroup",
}


def _resources(stacks: dict[str, SynthesizedStack], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{name}/{logical_id}", resource)
        for name, stack in stacks.items()
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == kind
    ]


def test_default_platform_has_one_stage_with_every_domain_stack(
    platform_stacks: dict[str, SynthesizedStack],
) -> None:
    assert "dev/Foundation" in platform_stacks
    assert all(name.startswith("dev/") for name in platform_stacks)


def test_every_data_store_is_retained(platform_stacks: dict[str, SynthesizedStack]) -> None:
    offenders = [
        path
        for kind in DATA_STORE_TYPES
        for path, resource in _resources(platform_stacks, kind)
        if resource.get("DeletionPolicy") != "Retain" or resource.get("UpdateReplacePolicy") != "Retain"
    ]
    assert offenders == []


def test_tables_are_protected_recoverable_and_encrypted_with_a_platform_key(
    platform_stacks: dict[str, SynthesizedStack],
) -> None:
    tables = _resources(platform_stacks, "AWS::DynamoDB::Table")
    assert len(tables) >= 5
    for path, table in tables:
        props = table["Properties"]
        assert props.get("DeletionProtectionEnabled") is True, path
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, path
        assert (
            props["SSESpecification"]["SSEType"] == "KMS" and "KMSMasterKeyId" in props["SSESpecification"]
        ), path


def test_buckets_are_private_versioned_and_tls_only(platform_stacks: dict[str, SynthesizedStack]) -> None:
    buckets = _resources(platform_stacks, "AWS::S3::Bucket")
    assert buckets
    for path, bucket in buckets:
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, path
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, path
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for _, p in _resources(platform_stacks, "AWS::S3::BucketPolicy")
    ]
    tls_denials = sum(
        1
        for statements in policies
        for s in statements
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    )
    assert tls_denials == len(buckets)


def test_data_buckets_use_a_customer_managed_key(platform_stacks: dict[str, SynthesizedStack]) -> None:
    for path, bucket in _resources(platform_stacks, "AWS::S3::Bucket"):
        rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        default = rule["ServerSideEncryptionByDefault"]
        if "AccessLogsBucket" in path:
            # S3 delivers server access logs only to SSE-S3 buckets.
            assert default["SSEAlgorithm"] == "AES256"
        else:
            assert default["SSEAlgorithm"] == "aws:kms" and "KMSMasterKeyID" in default, path


def test_every_kms_key_rotates(platform_stacks: dict[str, SynthesizedStack]) -> None:
    keys = _resources(platform_stacks, "AWS::KMS::Key")
    assert keys and all(k["Properties"]["EnableKeyRotation"] is True for _, k in keys)


def test_nag_acknowledgements_sit_on_specific_resources(platform_stacks: dict[str, SynthesizedStack]) -> None:
    acks = nag_acknowledgements(list(platform_stacks.values()))
    for ack in acks:
        depth = ack.path.strip("/").count("/")
        assert depth >= 2, f"{ack.rule} acknowledged on a whole stack: {ack.path}"
        if ack.base_rule in {"AwsSolutions-IAM5", "AwsSolutions-IAM4"}:
            assert "[" in ack.rule, f"{ack.rule} on {ack.path} must name the finding it covers"
        assert len(ack.reason) >= 25


def test_nag_acknowledgement_page_is_generated_from_the_code(repo_root: Path) -> None:
    committed = (repo_root / "docs" / "nag-acknowledgements.md").read_text()
    assert committed == generate(), "docs/nag-acknowledgements.md is stale: run `make docs`"


def test_cfn_lint_finds_no_errors_in_any_template(synthesized_platform: Path) -> None:
    from cfnlint.api import ManualArgs, lint_file

    templates = sorted(synthesized_platform.rglob("*.template.json"))
    assert templates
    errors = [
        f"{template.name}: {match}"
        for template in templates
        for match in lint_file(template, config=ManualArgs(regions=["us-east-1"]))
        if match.rule.id.startswith("E")
    ]
    assert errors == []


def test_review_summary_counts_every_resource(synthesized_platform: Path) -> None:
    from mlplatform.review_summary import render_summary

    stacks = read_stacks(synthesized_platform)
    summary = render_summary(stacks)
    total = sum(len(s.resources) for s in stacks)
    assert f"Resources by type ({total} in all)" in summary
    assert "dev/Foundation" in summary
    assert "AwsSolutions-" in summary


def test_team_resources_carry_the_cost_allocation_tag_budgets_filter_on(
    platform_stacks: dict[str, SynthesizedStack],
) -> None:
    tagged_types = {
        "AWS::SageMaker::Endpoint",
        "AWS::StepFunctions::StateMachine",
        "AWS::Kinesis::Stream",
        "AWS::Glue::Job",
    }
    found = {kind: 0 for kind in tagged_types}
    for stack in platform_stacks.values():
        for resource in stack.resources.values():
            if resource["Type"] not in tagged_types:
                continue
            tags = resource["Properties"].get("Tags", [])
            pairs = tags.items() if isinstance(tags, dict) else ((t["Key"], t["Value"]) for t in tags)
            assert ("team", "risk") in set(pairs), resource["Type"]
            found[resource["Type"]] += 1
    assert all(found.values()), found


def _definition_text(definition: Any) -> str:
    """The state machine definition with CloudFormation tokens left out (Fn::Join parts concatenated)."""
    if isinstance(definition, str):
        return definition
    if isinstance(definition, dict) and "Fn::Join" in definition:
        return "".join(_definition_text(part) for part in definition["Fn::Join"][1])
    return ""


def test_drift_baseline_leaves_out_entity_ids_labels_and_timestamps(
    platform_stacks: dict[str, SynthesizedStack],
) -> None:
    definitions = [
        _definition_text(resource["Properties"]["DefinitionString"])
        for stack in platform_stacks.values()
        for resource in stack.resources.values()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    baseline_steps = [d for d in definitions if "ProfileBaseline" in d]
    assert baseline_steps
    for definition in baseline_steps:
        assert '"excluded_columns":["card_id","is_fraud","event_time"]' in definition.replace(" ", "")


def test_review_cost_total_prices_every_resource_with_the_shipped_usage_file(
    synthesized_platform: Path, repo_root: Path
) -> None:
    from mlplatform.commands.cost import total_line

    line = total_line(
        synthesized_platform,
        usage=repo_root / "config" / "usage.yaml",
        config=repo_root / "config" / "default.yaml",
    )
    assert line.startswith("Estimated monthly cost: $"), line
    assert "awaiting usage" not in line and "unpriced" not in line, line


def test_the_foundation_lets_budgets_publish_through_the_ops_key_it_owns(
    platform_stacks: dict[str, SynthesizedStack],
) -> None:
    # The grant lives in the foundation, not in the monitoring shard that holds the budgets:
    # parallel synth builds the foundation in every worker, so shards must not change it.
    keys = _resources(platform_stacks, "AWS::KMS::Key")
    assert {name.rsplit("/", 1)[0] for name, _ in keys} == {"dev/Foundation"}
    budget_statements = [
        (name, statement)
        for name, key in keys
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if statement.get("Principal", {}).get("Service") == "budgets.amazonaws.com"
    ]
    assert [(name.split("/")[-1][:6], s["Sid"]) for name, s in budget_statements] == [
        ("OpsKey", "AllowBudgetAlerts")
    ]
    assert sorted(budget_statements[0][1]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
