"""The FeatureStore construct, synthesized once (with cdk-nag) for the whole module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.feature_store import FeatureStore
from lambdas.feature_store import offline_layout as layout
from lambdas.feature_store.registry import parse_group

from .conftest import user_group
from .test_point_in_time import MERCHANT

pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, FeatureStore, cdk.Stack]:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")), context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(
        app, "FeatureStoreTest", env=cdk.Environment(account="123456789012", region="eu-west-1")
    )
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    topic = sns.Topic(stack, "Alarms", master_key=key)
    store = FeatureStore(
        stack,
        "Features",
        feature_groups=[user_group(), MERCHANT],
        key=key,
        glacier_after=cdk.Duration.days(120),
        infrequent_access_after=cdk.Duration.days(45),
        alarm_topic=topic,
        training_set_function_name="features-test-training-set",
    )
    store.grant_training_set_output(
        s3.Bucket.from_bucket_name(stack, "Artifacts", "platform-artifacts"), "retraining/"
    )
    store.grant_training_set_source(
        database="labels_db",
        table="fraud_labels",
        bucket=s3.Bucket.from_bucket_name(stack, "Labels", "label-archive"),
        prefix="fraud/",
    )
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    store.grant_read_online(reader)
    assembly = app.synth()  # fails with ValidationFailed on any unacknowledged cdk-nag finding
    template = Template.from_json(
        json.loads(Path(assembly.get_stack_by_name(stack.stack_name).template_full_path).read_text())
    )
    return template, store, stack


def resources(template: Template, kind: str) -> Any:
    return template.find_resources(kind)


def test_online_table_is_on_demand_pitr_cmk_protected_with_ttl(built: Any) -> None:
    template, _, _ = built
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
                    "DeletionProtectionEnabled": True,
                    "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
                }
            ),
        },
    )


def test_one_glue_table_per_group_with_projection_and_the_registry(built: Any) -> None:
    template, _, _ = built
    tables = resources(template, "AWS::Glue::Table")
    by_name = {t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"] for t in tables.values()}
    assert set(by_name) == {"user_activity", "merchant_risk"}
    user = by_name["user_activity"]
    params = user["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.event_date.type"] == "date"
    assert params["projection.event_date.format"] == "yyyy-MM-dd"
    assert parse_group(json.loads(params[layout.REGISTRY_PARAMETER])) == user_group()
    assert params[layout.FINGERPRINT_PARAMETER] == user_group().fingerprint
    assert user["PartitionKeys"] == [{"Name": "event_date", "Type": "string"}]
    columns = [(c["Name"], c["Type"]) for c in user["StorageDescriptor"]["Columns"]]
    assert columns == layout.glue_columns(user_group())


def test_offline_bucket_moves_partitions_to_cheaper_storage_at_configured_ages(built: Any) -> None:
    template, _, _ = built
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": Match.object_like({}),
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Prefix": "offline/",
                                "Transitions": [
                                    {"StorageClass": "STANDARD_IA", "TransitionInDays": 45},
                                    {"StorageClass": "GLACIER_IR", "TransitionInDays": 120},
                                ],
                            }
                        )
                    ]
                )
            },
        },
    )


def test_ingestion_reports_partial_failures_and_alarms_on_dead_letters(built: Any) -> None:
    template, _, _ = built
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionResponseTypes": ["ReportBatchItemFailures"], "BatchSize": 10},
    )
    template.has_resource_properties(
        "AWS::SQS::Queue", {"RedrivePolicy": Match.object_like({"maxReceiveCount": 5})}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": Match.any_value(),
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "lambdas.feature_store.ingest_handler.handler",
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "FEATURE_STORE_OFFLINE_PREFIX": "offline",
                        "FEATURE_STORE_GLUE_DATABASE": "feature_store",
                        "FEATURE_STORE_TABLE": Match.any_value(),
                        "FEATURE_STORE_IDEMPOTENCY_TABLE": Match.any_value(),
                    }
                )
            },
        },
    )


def _actions_of_role(template: Template, role_prefix: str) -> set[str]:
    actions: set[str] = set()
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = [r.get("Ref", "") for r in policy["Properties"].get("Roles", [])]
        if not any(r.startswith(role_prefix) for r in roles):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            acts = statement["Action"]
            actions.update([acts] if isinstance(acts, str) else acts)
    return actions


def test_reader_gets_reads_only_and_ingestion_gets_conditional_puts_not_reads(built: Any) -> None:
    template, _, _ = built
    reader = _actions_of_role(template, "Reader")
    assert {"dynamodb:BatchGetItem", "dynamodb:GetItem", "glue:GetTable", "kms:Decrypt"} <= reader
    assert not {a for a in reader if a.startswith("dynamodb:") and "Put" in a}
    assert not {a for a in reader if a.startswith("s3:")}
    ingest = _actions_of_role(template, "FeaturesIngestRole")
    assert {"dynamodb:PutItem", "s3:PutObject", "glue:GetTable"} <= ingest
    assert "dynamodb:BatchGetItem" not in ingest
    assert "dynamodb:Scan" not in ingest


def test_metrics_name_the_group_and_refuse_unknown_groups(built: Any) -> None:
    _, store, _ = built
    latency = store.metric_read_latency("user_activity")
    assert latency.namespace == "MLPlatform/FeatureStore"
    assert latency.metric_name == "ReadLatency"
    assert latency.dimensions == {"FeatureGroup": "user_activity"}
    assert latency.statistic == "p99"
    assert store.metric_rejected_records("merchant_risk").metric_name == "RecordsRejected"
    rate = store.metric_stale_value_rate("user_activity")
    assert "stale / read" in rate.expression
    with pytest.raises(ValueError, match="unknown feature group 'ghost'"):
        store.metric_stale_values("ghost")


def test_athena_workgroup_encrypts_results_with_the_key(built: Any) -> None:
    template, _, _ = built
    template.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "WorkGroupConfiguration": Match.object_like(
                {
                    "EnforceWorkGroupConfiguration": True,
                    "ResultConfiguration": Match.object_like(
                        {"EncryptionConfiguration": Match.object_like({"EncryptionOption": "SSE_KMS"})}
                    ),
                }
            )
        },
    )


def test_training_set_function_has_its_literal_name_and_may_unload_under_the_granted_prefix_only(
    built: Any,
) -> None:
    template, store, stack = built
    function_id = stack.get_logical_id(store.training_set_function.function.node.default_child)
    assert resources(template, "AWS::Lambda::Function")[function_id]["Properties"]["FunctionName"] == (
        "features-test-training-set"
    )
    role_id = stack.get_logical_id(store.training_set_function.role.node.default_child)
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "platform-artifacts" in json.dumps(statement["Resource"])
    ]
    by_resource = {json.dumps(s["Resource"]).split(":::")[-1]: s["Action"] for s in statements}
    assert by_resource == {
        'platform-artifacts/retraining/*"]]}': [
            "s3:PutObject",
            "s3:GetObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        ],
        'platform-artifacts"]]}': ["s3:ListBucket", "s3:GetBucketLocation"],
    }


def test_duplicate_group_names_are_refused_before_any_resource_is_made() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Dup")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    with pytest.raises(ValueError, match="feature group names must be unique"):
        FeatureStore(stack, "Features", feature_groups=[user_group(), user_group()], key=key)
    assert stack.node.try_find_child("Features") is not None
    assert not stack.node.find_child("Features").node.children


def test_training_set_function_may_read_the_labels_table_and_its_files_only(built: Any) -> None:
    template, store, stack = built
    role_id = stack.get_logical_id(store.training_set_function.role.node.default_child)
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    text = {json.dumps(s["Resource"]): s["Action"] for s in statements}
    label_files = [actions for resource, actions in text.items() if "label-archive/fraud/*" in resource]
    assert label_files == ["s3:GetObject"]
    glue = [
        (resource, actions)
        for resource, actions in text.items()
        if "table/labels_db/fraud_labels" in resource
    ]
    assert len(glue) == 1 and set(glue[0][1]) == {"glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"}
