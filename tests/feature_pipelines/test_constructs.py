"""StreamingFeaturePipeline and BatchFeaturePipeline synthesized once, with cdk-nag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.batch_features import BatchFeaturePipeline, stage_python_package
from constructs_lib.secure_bucket import SecureBucket
from constructs_lib.streaming_features import StreamingFeaturePipeline
from lambdas.common.errors import InputError
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec
from lambdas.feature_store.registry import FeatureGroup
from tests.feature_pipelines.spark_data import GROUP as BATCH_GROUP
from tests.feature_pipelines.spark_data import SPEC as BATCH_SPEC
from tests.feature_pipelines.test_stream_handler import GROUP as STREAM_GROUP
from tests.feature_pipelines.test_stream_handler import SPEC_JSON

pytestmark = pytest.mark.synth
STREAM_SPEC = StreamingFeatureSpec.parse(SPEC_JSON)


def _shared(stack: cdk.Stack) -> dict[str, Any]:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    table = dynamodb.Table(
        stack,
        "Online",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    return {
        "key": key,
        "online_table": table,
        "offline_bucket": SecureBucket(stack, "Offline", key=key).bucket,
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")), context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    stream_stack = cdk.Stack(app, "Streaming", env=env)
    shared = _shared(stream_stack)
    streaming = StreamingFeaturePipeline(
        stream_stack,
        "Cards",
        spec=STREAM_SPEC,
        feature_group=STREAM_GROUP,
        glue_database_name="feature_store",
        enhanced_fan_out=True,
        **shared,
    )
    producer = iam.Role(stream_stack, "Producer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    streaming.grant_put_records(producer)
    batch_stack = cdk.Stack(app, "Batch", env=env)
    shared_batch = _shared(batch_stack)
    source = SecureBucket(batch_stack, "Source", key=shared_batch["key"]).bucket
    batch = BatchFeaturePipeline(
        batch_stack,
        "CardDaily",
        spec=BATCH_SPEC,
        feature_group=BATCH_GROUP,
        source_database="raw",
        source_table="transactions",
        source_bucket=source,
        source_prefix="transactions",
        worker_type="G.2X",
        number_of_workers=4,
        glue_version="5.0",
        materialization_schedule="cron(15 * * * ? *)",
        **shared_batch,
    )
    pipeline_role = iam.Role(
        batch_stack, "Retraining", assumed_by=iam.ServicePrincipal("states.amazonaws.com")
    )
    batch.grant_start_materialization(pipeline_role)
    assembly = app.synth()  # fails with ValidationFailed on any unacknowledged cdk-nag finding

    def template(stack: cdk.Stack) -> Template:
        path = Path(assembly.get_stack_by_name(stack.stack_name).template_full_path)
        return Template.from_json(json.loads(path.read_text()))

    return {"stream": template(stream_stack), "batch": template(batch_stack)}


def _statements(template: Template) -> list[dict[str, Any]]:
    found = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_stream_is_on_demand_and_encrypted_with_the_key(built: dict[str, Any]) -> None:
    built["stream"].has_resource(
        "AWS::Kinesis::Stream",
        {
            "Properties": {
                "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
                "StreamEncryption": {"EncryptionType": "KMS", "KeyId": Match.any_value()},
                "RetentionPeriodHours": 24,
            },
            "DeletionPolicy": "Retain",
        },
    )


def test_consumer_mapping_bisects_retries_and_sends_failures_to_the_queue(built: dict[str, Any]) -> None:
    template = built["stream"]
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 5,
            "MaximumRecordAgeInSeconds": 3600,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "StartingPosition": "TRIM_HORIZON",
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}},
            # Enhanced fan-out: the mapping reads through the registered stream consumer.
            "EventSourceArn": {"Fn::GetAtt": [Match.string_like_regexp("FanOut"), "ConsumerARN"]},
        },
    )
    template.resource_count_is("AWS::Kinesis::StreamConsumer", 1)
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})


def test_window_state_table_is_retained_recoverable_and_encrypted(built: dict[str, Any]) -> None:
    tables = built["stream"].find_resources(
        "AWS::DynamoDB::Table",
        {"Properties": {"TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True}}},
    )
    (state,) = tables.values()
    assert state["DeletionPolicy"] == "Retain"
    assert state["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert state["Properties"]["SSESpecification"]["SSEType"] == "KMS"
    assert state["Properties"]["DeletionProtectionEnabled"] is True


def test_consumer_environment_carries_the_spec(built: dict[str, Any]) -> None:
    functions = built["stream"].find_resources(
        "AWS::Lambda::Function",
        {"Properties": {"Handler": "lambdas.feature_pipelines.stream_handler.handler"}},
    )
    (function,) = functions.values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert StreamingFeatureSpec.model_validate_json(variables["FEATURE_PIPELINE_SPEC"]) == STREAM_SPEC
    assert variables["FEATURE_STORE_GLUE_DATABASE"] == "feature_store"
    assert variables["FEATURE_STORE_OFFLINE_PREFIX"] == "offline"


def test_consumer_permissions_are_the_ones_it_uses(built: dict[str, Any]) -> None:
    actions = {action for s in _statements(built["stream"]) for action in _actions(s)}
    assert {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "glue:GetTable",
        "s3:PutObject",
        "sqs:SendMessage",
    } <= actions
    assert not {a for a in actions if a.endswith(":*") or a == "*"}
    assert "dynamodb:Scan" not in actions and "s3:DeleteObject" not in actions
    put_object = next(s for s in _statements(built["stream"]) if "s3:PutObject" in _actions(s))
    assert json.dumps(put_object["Resource"]).endswith('"/offline/feature_group=card_stream/*"]]}')


def test_producer_grant_allows_putting_records(built: dict[str, Any]) -> None:
    actions = {action for s in _statements(built["stream"]) for action in _actions(s)}
    assert {"kinesis:PutRecord", "kinesis:PutRecords"} <= actions


def test_batch_job_uses_bookmarks_workers_and_the_security_configuration(built: dict[str, Any]) -> None:
    template = built["batch"]
    jobs = template.find_resources(
        "AWS::Glue::Job",
        {"Properties": {"DefaultArguments": {"--job-bookmark-option": "job-bookmark-enable"}}},
    )
    (job,) = jobs.values()
    props = job["Properties"]
    assert (props["GlueVersion"], props["WorkerType"], props["NumberOfWorkers"]) == ("5.0", "G.2X", 4)
    assert (
        props["SecurityConfiguration"] == {"Ref": Match.any_value()}
        or "Ref" in props["SecurityConfiguration"]
    )
    assert props["DefaultArguments"]["--source_table"] == "transactions"
    assert json.loads(props["DefaultArguments"]["--spec"])["feature_group"] == "card_daily"
    template.has_resource_properties(
        "AWS::Glue::SecurityConfiguration",
        {
            "EncryptionConfiguration": {
                "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": Match.any_value()}],
                "CloudWatchEncryption": {
                    "CloudWatchEncryptionMode": "SSE-KMS",
                    "KmsKeyArn": Match.any_value(),
                },
                "JobBookmarksEncryption": {
                    "JobBookmarksEncryptionMode": "CSE-KMS",
                    "KmsKeyArn": Match.any_value(),
                },
            }
        },
    )


def test_materialization_is_scheduled_with_the_scheduled_time_as_end(built: dict[str, Any]) -> None:
    template = built["batch"]
    schedules = template.find_resources("AWS::Scheduler::Schedule")
    (schedule,) = schedules.values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(15 * * * ? *)"
    assert props["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:glue:startJobRun"
    assert "<aws.scheduler.scheduled-time>" in json.dumps(props["Target"]["Input"])
    template.has_resource_properties(
        "AWS::Glue::Job",
        {"DefaultArguments": Match.object_like({"--job-bookmark-option": "job-bookmark-disable"})},
    )


def test_glue_role_and_retraining_grant_are_least_privilege(built: dict[str, Any]) -> None:
    statements = _statements(built["batch"])
    actions = {action for s in statements for action in _actions(s)}
    assert {
        "dynamodb:PutItem",
        "glue:GetTable",
        "glue:GetPartitions",
        "s3:PutObject",
        "glue:StartJobRun",
    } <= actions
    assert not {a for a in actions if a.endswith(":*") or a == "*"}
    start = [s for s in statements if "glue:StartJobRun" in _actions(s)]
    assert len(start) == 2  # scheduler role and the retraining role
    assert all(":job/" in json.dumps(s["Resource"]) for s in start)


def test_spec_that_does_not_fit_the_group_fails_at_synth() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Bad")
    shared = _shared(stack)
    other = FeatureGroup.model_validate(
        {**STREAM_GROUP.model_dump(), "features": [{"name": "x", "dtype": "string"}]}
    )
    with pytest.raises(InputError, match="not a feature of group"):
        StreamingFeaturePipeline(
            stack, "S", spec=STREAM_SPEC, feature_group=other, glue_database_name="fs", **shared
        )
    with pytest.raises(InputError, match="qty_sum"):
        BatchFeaturePipeline(
            stack,
            "B",
            spec=BATCH_SPEC.model_copy(update={"features": BATCH_SPEC.features[:-1]}),
            feature_group=BATCH_GROUP,
            source_database="raw",
            source_table="t",
            source_bucket=shared["offline_bucket"],
            **shared,
        )


def test_glue_package_holds_only_the_domains_the_scripts_import() -> None:
    staged = Path(stage_python_package()) / "lambdas"
    assert sorted(p.name for p in staged.iterdir()) == [
        "__init__.py",
        "common",
        "feature_pipelines",
        "feature_store",
    ]
    assert (staged / "feature_pipelines" / "glue" / "materialize.py").is_file()
    assert not list(staged.rglob("__pycache__"))
