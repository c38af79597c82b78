"""PredictionApi: every option, checked on the synthesized template."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.model_endpoint import DeploymentPolicy, ModelEndpoint, ServerlessSpec, VariantSpec
from constructs_lib.prediction_api import PredictionApi, PredictionModel, Throttling
from lambdas.serving.request_schema import FeatureSpec, schema_for_features

pytestmark = pytest.mark.synth

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
FRAUD_SCHEMA = schema_for_features(
    "fraud",
    [
        FeatureSpec("amount", "float", minimum=0),
        FeatureSpec("country", "string", allowed=("DE", "FR")),
        FeatureSpec("embedding", "float_vector", length=4, required=False),
    ],
)
CHURN_SCHEMA = schema_for_features("churn", [FeatureSpec("tenure", "int", minimum=0)])


def _endpoint(stack: cdk.Stack, name: str, key: kms.IKey) -> ModelEndpoint:
    return ModelEndpoint(
        stack,
        f"Endpoint-{name}",
        endpoint_name=name,
        image=f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{name}:1",
        artifact=f"s3://ml-artifacts/{name}/model.tar.gz",
        variants=[VariantSpec("main", serverless=ServerlessSpec())],
        key=key,
        deployment=DeploymentPolicy(auto_rollback=False),
    )


def _api(stack: cdk.Stack, **overrides: Any) -> PredictionApi:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    props: dict[str, Any] = {
        "api_name": "predictions",
        "models": [
            PredictionModel("fraud", _endpoint(stack, "fraud", key), "v7", FRAUD_SCHEMA),
            PredictionModel("churn", _endpoint(stack, "churn", key), "2024-05-01", CHURN_SCHEMA),
        ],
        "key": key,
    }
    props.update(overrides)
    return PredictionApi(stack, "Predictions", **props)


@pytest.fixture(scope="module")
def synthesized() -> dict[str, tuple[Template, PredictionApi]]:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    iam_stack = cdk.Stack(app, "IamApi", env=ENV)
    cognito_stack = cdk.Stack(app, "CognitoApi", env=ENV)
    built = {
        "IamApi": _api(iam_stack),
        "CognitoApi": _api(
            cognito_stack,
            user_pool=cognito.UserPool(cognito_stack, "Users"),
            api_key_required=True,
            throttling=Throttling(rate_limit=20, burst_limit=40, daily_quota=50_000),
            cache_ttl=cdk.Duration.minutes(30),
            vpc=ec2.Vpc(
                cognito_stack,
                "Vpc",
                max_azs=2,
                nat_gateways=0,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
                ],
            ),
        ),
    }
    assembly = app.synth()
    return {
        name: (Template.from_json(assembly.get_stack_by_name(name).template), api)
        for name, api in built.items()
    }


def _only(template: Template, resource_type: str) -> dict:
    (resource,) = template.find_resources(resource_type).values()
    return dict(resource)


def _logical_id(template: Template, resource_type: str) -> str:
    (logical_id,) = template.find_resources(resource_type)
    return logical_id


def test_cache_table_is_on_demand_ttl_pitr_cmk_retained(synthesized):
    template, _ = synthesized["IamApi"]
    table = _only(template, "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEType"] == "KMS"
    assert "KMSMasterKeyId" in props["SSESpecification"]
    assert props["DeletionProtectionEnabled"] is True


def test_catalog_parameters_hold_endpoint_version_and_schema(synthesized):
    template, _ = synthesized["IamApi"]
    parameters = {
        p["Properties"]["Name"]: json.loads(p["Properties"]["Value"])
        for p in template.find_resources("AWS::SSM::Parameter").values()
    }
    assert set(parameters) == {"/predictions/models/fraud", "/predictions/models/churn"}
    fraud = parameters["/predictions/models/fraud"]
    assert (fraud["endpoint_name"], fraud["model_version"]) == ("fraud", "v7")
    assert fraud["request_schema"] == FRAUD_SCHEMA


def test_function_environment_matches_handler_settings(synthesized):
    template, _ = synthesized["CognitoApi"]
    functions = template.find_resources("AWS::Lambda::Function")
    handler = next(
        f for f in functions.values() if f["Properties"].get("Handler") == "lambdas.serving.handler.handler"
    )
    env = handler["Properties"]["Environment"]["Variables"]
    table_id = _logical_id(template, "AWS::DynamoDB::Table")
    assert env["CACHE_TABLE_NAME"] == {"Ref": table_id}
    assert env["MODEL_NAMES"] == "fraud,churn"
    assert env["MODEL_PARAMETER_PREFIX"] == "/predictions/models/"
    assert env["CACHE_TTL_SECONDS"] == "1800"
    assert env["ENDPOINT_READ_TIMEOUT_SECONDS"] == "5"
    # Three attempts of connect + read timeout must fit the function timeout.
    assert handler["Properties"]["Timeout"] >= 3 * (1 + 5)
    assert len(handler["Properties"]["VpcConfig"]["SubnetIds"]) == 2
    from lambdas.serving.settings import ENV_VARS, ServingSettings

    required = {ENV_VARS[name] for name, info in ServingSettings.model_fields.items() if info.is_required()}
    assert required <= set(env)
    literal = {k: v for k, v in env.items() if isinstance(v, str)}
    settings = ServingSettings.from_env(literal | {"CACHE_TABLE_NAME": "cache-table"})
    assert settings.model_names == {"fraud", "churn"}
    assert settings.cache_ttl_seconds == 1800


def _policy_statements_by_role(template: Template) -> dict[str, list[dict]]:
    by_role: dict[str, list[dict]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for role in policy["Properties"].get("Roles", []):
            by_role.setdefault(role["Ref"], []).extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return by_role


def test_function_gets_only_item_reads_writes_catalog_reads_and_its_endpoints(synthesized):
    template, _ = synthesized["IamApi"]
    by_role = _policy_statements_by_role(template)
    function_role = next(r for r in by_role if r.startswith("PredictionsFunctionRole"))
    statements = by_role[function_role]
    actions = [s["Action"] for s in statements]
    assert ["dynamodb:GetItem", "dynamodb:PutItem"] in actions
    assert not any("dynamodb:Scan" in json.dumps(a) or "dynamodb:*" in json.dumps(a) for a in actions)
    invoke = [s for s in statements if s["Action"] == "sagemaker:InvokeEndpoint"]
    endpoint_ids = set(template.find_resources("AWS::SageMaker::Endpoint"))
    assert {s["Resource"]["Ref"] for s in invoke} == endpoint_ids
    ssm_reads = [s for s in statements if "ssm:GetParameter" in s["Action"]]
    assert len(ssm_reads) == 2


def test_endpoint_invoke_is_granted_to_the_function_only(synthesized):
    template, _ = synthesized["IamApi"]
    holders = [
        role
        for role, statements in _policy_statements_by_role(template).items()
        if any(s["Action"] == "sagemaker:InvokeEndpoint" for s in statements)
    ]
    assert len(holders) == 1 and holders[0].startswith("PredictionsFunctionRole")


def test_methods_use_iam_auth_validator_and_per_model_schema(synthesized):
    template, _ = synthesized["IamApi"]
    methods = [m["Properties"] for m in template.find_resources("AWS::ApiGateway::Method").values()]
    assert len(methods) == 2
    validator_id = _logical_id(template, "AWS::ApiGateway::RequestValidator")
    assert _only(template, "AWS::ApiGateway::RequestValidator")["Properties"]["ValidateRequestBody"] is True
    models = template.find_resources("AWS::ApiGateway::Model")
    for method in methods:
        assert method["HttpMethod"] == "POST"
        assert method["AuthorizationType"] == "AWS_IAM"
        assert method.get("ApiKeyRequired") in (None, False)
        assert method["RequestValidatorId"] == {"Ref": validator_id}
        assert method["RequestModels"]["application/json"]["Ref"] in models
    fraud_model = next(m["Properties"] for m in models.values() if "fraud" in m["Properties"]["Description"])
    schema = fraud_model["Schema"]
    # The gateway validates against exactly the schema the function checks.
    assert schema == FRAUD_SCHEMA
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["additionalProperties"] is False
    features = schema["properties"]["features"]
    assert features["required"] == ["amount", "country"]
    assert features["properties"]["country"]["enum"] == ["DE", "FR"]
    assert features["properties"]["embedding"] == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 4,
        "maxItems": 4,
    }
    paths = {
        r["Properties"]["PathPart"] for r in template.find_resources("AWS::ApiGateway::Resource").values()
    }
    assert paths == {"models", "fraud", "churn", "predict"}
    (permission,) = template.find_resources("AWS::Lambda::Permission").values()
    source = json.dumps(permission["Properties"]["SourceArn"])
    assert "execute-api" in source and "/*/*" in source


def test_stage_has_tracing_kms_access_logs_and_throttling(synthesized):
    template, _ = synthesized["IamApi"]
    stage = _only(template, "AWS::ApiGateway::Stage")["Properties"]
    assert stage["StageName"] == "prod"
    assert stage["TracingEnabled"] is True
    log_groups = template.find_resources("AWS::Logs::LogGroup")
    access_log_id = stage["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    assert "KmsKeyId" in log_groups[access_log_id]["Properties"]
    assert log_groups[access_log_id]["DeletionPolicy"] == "Retain"
    (settings,) = stage["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (100, 200)
    assert settings["LoggingLevel"] == "ERROR"


def test_usage_plan_throttles_and_has_no_key_by_default(synthesized):
    template, _ = synthesized["IamApi"]
    plan = _only(template, "AWS::ApiGateway::UsagePlan")["Properties"]
    assert plan["Throttle"] == {"RateLimit": 100, "BurstLimit": 200}
    assert "Quota" not in plan
    template.resource_count_is("AWS::ApiGateway::ApiKey", 0)


def test_cognito_option_uses_user_pool_authorizer_api_key_and_quota(synthesized):
    template, _ = synthesized["CognitoApi"]
    authorizer = _only(template, "AWS::ApiGateway::Authorizer")["Properties"]
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    authorizer_id = _logical_id(template, "AWS::ApiGateway::Authorizer")
    for method in template.find_resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert props["AuthorizerId"] == {"Ref": authorizer_id}
        assert props["ApiKeyRequired"] is True
    plan = _only(template, "AWS::ApiGateway::UsagePlan")["Properties"]
    assert plan["Throttle"] == {"RateLimit": 20, "BurstLimit": 40}
    assert plan["Quota"] == {"Limit": 50_000, "Period": "DAY"}
    template.resource_count_is("AWS::ApiGateway::ApiKey", 1)
    template.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)


def test_invalid_body_response_lists_validation_errors_and_request_id(synthesized):
    template, _ = synthesized["IamApi"]
    response = _only(template, "AWS::ApiGateway::GatewayResponse")["Properties"]
    assert response["ResponseType"] == "BAD_REQUEST_BODY"
    body = response["ResponseTemplates"]["application/json"]
    assert "$context.error.validationErrorString" in body and "$context.requestId" in body


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: [m[0], m[0]], "names must be unique"),
        (lambda m: [m[0].__class__("fraud", m[0].endpoint, "v#1", FRAUD_SCHEMA)], "without '#'"),
        (
            lambda m: [m[0].__class__("fraud", m[0].endpoint, "v1", {"type": "object", "pattern": "x"})],
            r"unsupported keywords \['pattern'\]",
        ),
        (lambda m: [m[0].__class__("fr,aud", m[0].endpoint, "v1", FRAUD_SCHEMA)], "model name 'fr,aud'"),
        (lambda m: [], "at least one model"),
    ],
)
def test_bad_models_fail_with_a_clear_message(mutate, message):
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Bad", env=ENV)
    key = kms.Key(stack, "Key")
    good = [PredictionModel("fraud", _endpoint(stack, "fraud", key), "v1", FRAUD_SCHEMA)]
    with pytest.raises(ValueError, match=message):
        PredictionApi(stack, "Api", api_name="p", models=mutate(good), key=key)


def test_oversized_catalog_entry_is_refused_and_large_one_uses_advanced_tier():
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Big", env=ENV)
    key = kms.Key(stack, "Key")
    endpoint = _endpoint(stack, "fraud", key)
    medium = schema_for_features("fraud", [FeatureSpec(f"feature_{i:03d}", "float") for i in range(150)])
    api = PredictionApi(
        stack, "Api", api_name="p", models=[PredictionModel("fraud", endpoint, "v1", medium)], key=key
    )
    assert api.parameters["fraud"].node.default_child.tier == "Advanced"  # type: ignore[union-attr]
    huge = schema_for_features("fraud", [FeatureSpec(f"feature_{i:03d}", "float") for i in range(400)])
    with pytest.raises(ValueError, match="above the 8 KB SSM parameter limit"):
        PredictionApi(
            stack, "Api2", api_name="q", models=[PredictionModel("fraud", endpoint, "v1", huge)], key=key
        )
