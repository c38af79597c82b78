"""VectorSearchDomain, KnnIndex, EmbeddingPipeline and VectorSearchFunction, synthesized once with cdk-nag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.vector_api import VectorSearchApi
from constructs_lib.vector_index import KnnIndex
from constructs_lib.vector_pipeline import EmbeddingPipeline, VectorSearchFunction
from constructs_lib.vector_search import VectorSearchDomain
from lambdas.vector_search.index_spec import parse_index_spec
from tests.vector_search.conftest import spec_dict

pytestmark = pytest.mark.synth

SPEC = parse_index_spec(spec_dict(name="merchants", dimension=1024, lifecycle={"warm_after_days": 30}))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Template:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")), context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "VectorTest", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    topic = sns.Topic(stack, "Alarms", master_key=key)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1, restrict_default_security_group=False)
    vpc.add_flow_log("FlowLog")
    domain = VectorSearchDomain(
        stack,
        "Vectors",
        vpc=vpc,
        key=key,
        alarm_topic=topic,
        warm_node_instance_type="ultrawarm1.medium.search",
        warm_nodes=2,
    )
    index = KnnIndex(stack, "MerchantIndex", domain=domain, spec=SPEC)
    EmbeddingPipeline(
        stack,
        "Ingest",
        domain=domain,
        index=index,
        vpc=vpc,
        queue_key=key,
        embedding_provider="bedrock",
        embedding_model="amazon.titan-embed-text-v2:0",
    )
    search = VectorSearchFunction(
        stack,
        "Search",
        domain=domain,
        indices=[index],
        vpc=vpc,
        embedding_provider="sagemaker",
        embedding_model="Merchant-Embedder",
    )
    api = VectorSearchApi(stack, "SearchApi", search=search, log_key=key)
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    api.grant_invoke(caller)
    assembly = app.synth()  # fails with ValidationFailed on any unacknowledged cdk-nag finding
    return Template.from_json(
        json.loads(Path(assembly.get_stack_by_name(stack.stack_name).template_full_path).read_text())
    )


def _domain(template: Template) -> Any:
    [domain] = template.find_resources("AWS::OpenSearchService::Domain").values()
    return domain


def test_domain_is_private_encrypted_https_only_and_retained(built: Template) -> None:
    domain = _domain(built)
    assert domain["DeletionPolicy"] == "Retain"
    props = domain["Properties"]
    assert props["EngineVersion"] == "OpenSearch_2.19"
    assert props["EncryptionAtRestOptions"]["Enabled"] is True
    assert "KmsKeyId" in props["EncryptionAtRestOptions"]
    assert props["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert props["DomainEndpointOptions"] == {
        "EnforceHTTPS": True,
        "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10",
    }
    assert len(props["VPCOptions"]["SubnetIds"]) == 2
    assert props["AdvancedSecurityOptions"]["Enabled"] is True
    assert props["AdvancedSecurityOptions"]["InternalUserDatabaseEnabled"] is False
    assert "MasterUserARN" in props["AdvancedSecurityOptions"]["MasterUserOptions"]


def test_domain_has_dedicated_masters_zone_awareness_and_warm_nodes(built: Template) -> None:
    cluster = _domain(built)["Properties"]["ClusterConfig"]
    assert cluster["DedicatedMasterEnabled"] is True
    assert cluster["DedicatedMasterCount"] == 3
    assert cluster["ZoneAwarenessEnabled"] is True
    assert cluster["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": 2}
    assert cluster["InstanceCount"] == 2
    assert cluster["WarmEnabled"] is True
    assert cluster["WarmCount"] == 2


def test_domain_ships_slow_and_application_logs_to_cloudwatch(built: Template) -> None:
    options = _domain(built)["Properties"]["LogPublishingOptions"]
    assert set(options) == {"SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS"}
    assert all(o["Enabled"] for o in options.values())
    built.resource_count_is("AWS::Logs::ResourcePolicy", 1)


@pytest.mark.parametrize(
    ("metric", "comparison", "threshold"),
    [
        ("ClusterStatus.red", "GreaterThanOrEqualToThreshold", 1),
        ("ClusterStatus.yellow", "GreaterThanOrEqualToThreshold", 1),
        ("JVMMemoryPressure", "GreaterThanOrEqualToThreshold", 85),
        ("FreeStorageSpace", "LessThanOrEqualToThreshold", 25600),
        ("KNNCircuitBreakerTriggered", "GreaterThanOrEqualToThreshold", 1),
    ],
)
def test_alarms_watch_cluster_health_and_notify_the_topic(
    built: Template, metric: str, comparison: str, threshold: float
) -> None:
    built.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": metric,
            "Namespace": "AWS/ES",
            "ComparisonOperator": comparison,
            "Threshold": threshold,
            "AlarmActions": [Match.any_value()],
        },
    )


def test_knn_index_custom_resource_carries_the_spec_and_role_mappings(built: Template) -> None:
    [resource] = built.find_resources("Custom::KnnIndex").values()
    props = resource["Properties"]
    assert json.loads(props["IndexSpec"]) == json.loads(SPEC.model_dump_json())
    assert props["DeleteDataOnRemove"] == "false"
    assert resource["DeletionPolicy"] == "Retain"
    # The role lists are JSON built from role ARNs at deploy time (Fn::Join over GetAtt).
    assert "Fn::Join" in props["ReaderRoleArns"]
    assert "Fn::Join" in props["WriterRoleArns"]


def test_pipeline_queue_has_a_dlq_and_reports_partial_batch_failures(built: Template) -> None:
    built.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionResponseTypes": ["ReportBatchItemFailures"], "BatchSize": 10},
    )
    built.has_resource_properties(
        "AWS::SQS::Queue",
        {"RedrivePolicy": Match.object_like({"maxReceiveCount": 5}), "VisibilityTimeout": 720},
    )


def test_pipeline_may_only_invoke_its_embedding_model(built: Template) -> None:
    policies = built.find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    bedrock = [s for s in statements if s["Action"] == "bedrock:InvokeModel"]
    assert len(bedrock) == 1
    assert "foundation-model/amazon.titan-embed-text-v2:0" in json.dumps(bedrock[0]["Resource"])


def test_search_function_may_invoke_only_its_query_embedding_endpoint(built: Template) -> None:
    policies = built.find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    [invoke] = [s for s in statements if s["Action"] == "sagemaker:InvokeEndpoint"]
    assert "endpoint/merchant-embedder" in json.dumps(invoke["Resource"])


def test_functions_get_index_scoped_http_permissions(built: Template) -> None:
    policies = built.find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    read = [s for s in statements if s["Action"] == ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]]
    assert read, "the search function has no read grant"
    resources = json.dumps(read[0]["Resource"])
    assert "/merchants" in resources and "/merchants-*" in resources


def test_functions_environment_names_the_domain_and_index(built: Template) -> None:
    functions = built.find_resources("AWS::Lambda::Function")
    handlers = {f["Properties"].get("Handler"): f["Properties"] for f in functions.values()}
    ingest = handlers["lambdas.vector_search.ingest_handler.handler"]["Environment"]["Variables"]
    assert json.loads(ingest["INDEX_SPEC"])["name"] == "merchants"
    assert ingest["EMBEDDING_PROVIDER"] == "bedrock"
    search = handlers["lambdas.vector_search.search_handler.handler"]["Environment"]["Variables"]
    assert "OPENSEARCH_ENDPOINT" in search
    assert "lambdas.vector_search.index_handler.handler" in handlers


def test_search_api_is_iam_authorized_and_validates_the_body(built: Template) -> None:
    built.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "POST",
            "AuthorizationType": "AWS_IAM",
            "RequestModels": {"application/json": Match.any_value()},
        },
    )
    [model] = built.find_resources("AWS::ApiGateway::Model").values()
    schema = model["Properties"]["Schema"]
    assert schema["required"] == ["indices"]
    assert {"vector", "text"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    built.has_resource_properties(
        "AWS::ApiGateway::Stage", {"TracingEnabled": True, "AccessLogSetting": Match.object_like({})}
    )


def test_invalid_topologies_are_refused_at_synth() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Bad")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    key = kms.Key(stack, "Key")
    with pytest.raises(ValueError, match="multiple of availability_zone_count"):
        VectorSearchDomain(stack, "Odd", vpc=vpc, key=key, data_nodes=3)
    with pytest.raises(ValueError, match="cold_storage needs UltraWarm"):
        VectorSearchDomain(stack, "Cold", vpc=vpc, key=key, cold_storage=True)
