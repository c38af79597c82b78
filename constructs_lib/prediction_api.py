"""`PredictionApi`: an authenticated, validated, throttled and cached REST API in front of endpoints.

``POST /models/<model>/predict`` for each model, answered by the prediction function
(`lambdas.serving.handler.handler`). API Gateway checks the body against the model's
JSON schema before the function runs (the function checks again, so it is safe to call
directly). Predictions are cached in a DynamoDB table keyed by model version and a
canonical hash of the features; each model's endpoint, version and schema live in one
SSM parameter the function reads (see `lambdas/serving/model_catalog.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib import durations
from constructs_lib.model_endpoint import ModelEndpoint
from constructs_lib.nag import acknowledge
from constructs_lib.platform_function import PlatformFunction
from constructs_lib.protected_table import protected_table
from constructs_lib.rest_api import hardened_rest_api
from lambdas.serving.cache_item import PARTITION_KEY, TTL_ATTRIBUTE
from lambdas.serving.request_schema import unsupported_keywords

HANDLER = "lambdas.serving.handler.handler"
# SSM standard parameters hold 4 KB, advanced ones 8 KB.
_STANDARD_PARAMETER_LIMIT = 4096
_ADVANCED_PARAMETER_LIMIT = 8192

_JSON_TYPES = {
    "object": apigw.JsonSchemaType.OBJECT,
    "array": apigw.JsonSchemaType.ARRAY,
    "string": apigw.JsonSchemaType.STRING,
    "number": apigw.JsonSchemaType.NUMBER,
    "integer": apigw.JsonSchemaType.INTEGER,
    "boolean": apigw.JsonSchemaType.BOOLEAN,
    "null": apigw.JsonSchemaType.NULL,
}


@dataclass(frozen=True)
class PredictionModel:
    """One model served by the API: its endpoint, the version that keys its cache, its request schema."""

    name: str
    endpoint: ModelEndpoint
    model_version: str
    request_schema: Mapping[str, Any]


@dataclass(frozen=True)
class Throttling:
    """Usage-plan throttling (steady requests per second and burst) and an optional daily quota."""

    rate_limit: float = 100
    burst_limit: int = 200
    daily_quota: int | None = None


def json_schema(schema: Mapping[str, Any]) -> apigw.JsonSchema:
    """The API Gateway form of a JSON schema in the subset the request validator uses."""
    kwargs: dict[str, Any] = {}
    if "$schema" in schema:
        kwargs["schema"] = apigw.JsonSchemaVersion.DRAFT4
    if "title" in schema:
        kwargs["title"] = schema["title"]
    if "description" in schema:
        kwargs["description"] = schema["description"]
    if "type" in schema:
        types = schema["type"]
        kwargs["type"] = _JSON_TYPES[types] if isinstance(types, str) else [_JSON_TYPES[t] for t in types]
    if "required" in schema:
        kwargs["required"] = list(schema["required"])
    if "properties" in schema:
        kwargs["properties"] = {name: json_schema(child) for name, child in schema["properties"].items()}
    if "additionalProperties" in schema:
        kwargs["additional_properties"] = bool(schema["additionalProperties"])
    for source, target in (
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("minItems", "min_items"),
        ("maxItems", "max_items"),
    ):
        if source in schema:
            kwargs[target] = schema[source]
    if "enum" in schema:
        kwargs["enum"] = list(schema["enum"])
    if "items" in schema:
        kwargs["items"] = json_schema(schema["items"])
    return apigw.JsonSchema(**kwargs)


class PredictionApi(Construct):
    """REST API + prediction function + prediction cache for a set of model endpoints."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str,
        models: Sequence[PredictionModel],
        key: kms.IKey,
        log_key: kms.IKey | None = None,
        user_pool: cognito.IUserPool | None = None,
        api_key_required: bool = False,
        throttling: Throttling | None = None,
        cache_ttl: cdk.Duration | None = None,
        catalog_max_age: cdk.Duration | None = None,
        endpoint_read_timeout: cdk.Duration | None = None,
        endpoint_connect_timeout: cdk.Duration | None = None,
        throttle_max_attempts: int = 3,
        stage_name: str = "prod",
        parameter_prefix: str | None = None,
        memory_size: int = 512,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._validate(models)
        throttling = throttling or Throttling()
        read_timeout = endpoint_read_timeout or durations.seconds(5)
        connect_timeout = endpoint_connect_timeout or durations.seconds(1)
        self.parameter_prefix = parameter_prefix or f"/{api_name}/models/"
        log_key = log_key or key

        self.cache_table = protected_table(
            self, "Cache", key=key, partition_key=PARTITION_KEY, time_to_live_attribute=TTL_ATTRIBUTE
        )

        self.parameters: dict[str, ssm.StringParameter] = {m.name: self._catalog_parameter(m) for m in models}

        # Worst case: every attempt waits the full read timeout, plus backoff and cache I/O.
        budget = (
            durations.in_seconds(connect_timeout) + durations.in_seconds(read_timeout)
        ) * throttle_max_attempts + 3
        self.function = PlatformFunction(
            self,
            "Function",
            handler=HANDLER,
            domains=["serving"],
            environment={
                "CACHE_TABLE_NAME": self.cache_table.table_name,
                "MODEL_NAMES": ",".join(m.name for m in models),
                "MODEL_PARAMETER_PREFIX": self.parameter_prefix,
                "CACHE_TTL_SECONDS": str(int(durations.in_seconds(cache_ttl or durations.minutes(5)))),
                "CATALOG_MAX_AGE_SECONDS": str(
                    int(durations.in_seconds(catalog_max_age or durations.minutes(1)))
                ),
                "ENDPOINT_CONNECT_TIMEOUT_SECONDS": str(durations.in_seconds(connect_timeout)),
                "ENDPOINT_READ_TIMEOUT_SECONDS": str(durations.in_seconds(read_timeout)),
                "THROTTLE_MAX_ATTEMPTS": str(throttle_max_attempts),
                "POWERTOOLS_SERVICE_NAME": "prediction-api",
            },
            timeout=durations.seconds(int(budget) + 1),
            memory_size=memory_size,
            description=f"Prediction API {api_name}: cache, validate, invoke SageMaker endpoints",
            key=log_key,
            # In a VPC the function reaches DynamoDB, SSM and SageMaker runtime through VPC endpoints.
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
        )
        role = self.function.role
        # Only the two item operations the cache uses, not the broad read/write grant.
        self.cache_table.grant(role, "dynamodb:GetItem", "dynamodb:PutItem")
        # DynamoDB encrypts and decrypts items with the table's CMK on the caller's behalf.
        key.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
        for model in models:
            self.parameters[model.name].grant_read(role)
            model.endpoint.grant_invoke(role)

        rest = hardened_rest_api(
            self,
            rest_api_name=api_name,
            description=f"Prediction API {api_name}",
            invalid_request_message="invalid prediction request",
            stage_name=stage_name,
            rate_limit=throttling.rate_limit,
            burst_limit=throttling.burst_limit,
            log_key=log_key,
            log_retention=log_retention,
        )
        self.api, self.access_log_group, self.request_validator = (
            rest.api,
            rest.access_log_group,
            rest.request_validator,
        )

        self.authorizer: apigw.CognitoUserPoolsAuthorizer | None = None
        if user_pool is not None:
            self.authorizer = apigw.CognitoUserPoolsAuthorizer(
                self, "Authorizer", cognito_user_pools=[user_pool]
            )
        # One invoke permission for the whole API instead of two per method: an API with
        # many models would otherwise spend a large share of the stack's 500 resources on them.
        # (allow_test_invoke is not set: an API-wide permission has no separate test one.)
        integration = apigw.LambdaIntegration(
            self.function.function, proxy=True, scope_permission_to_method=False
        )
        models_resource = self.api.root.add_resource("models")
        self.methods: dict[str, apigw.Method] = {}
        for model in models:
            request_model = self.api.add_model(
                f"Request{_logical(model.name)}",
                content_type="application/json",
                schema=json_schema(model.request_schema),
                description=f"Prediction request of model {model.name}",
            )
            predict = models_resource.add_resource(model.name).add_resource("predict")
            self.methods[model.name] = predict.add_method(
                "POST",
                integration,
                authorization_type=(
                    apigw.AuthorizationType.COGNITO if self.authorizer else apigw.AuthorizationType.IAM
                ),
                authorizer=self.authorizer,
                api_key_required=api_key_required,
                request_validator=self.request_validator,
                request_models={"application/json": request_model},
            )

        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan",
            name=f"{api_name}-default",
            throttle=apigw.ThrottleSettings(
                rate_limit=throttling.rate_limit, burst_limit=throttling.burst_limit
            ),
            quota=(
                apigw.QuotaSettings(limit=throttling.daily_quota, period=apigw.Period.DAY)
                if throttling.daily_quota is not None
                else None
            ),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        self.api_key: apigw.IApiKey | None = None
        if api_key_required:
            self.api_key = self.api.add_api_key("ApiKey", api_key_name=f"{api_name}-key")
            self.usage_plan.add_api_key(self.api_key)

        if self.authorizer is None:
            acknowledge(
                self.api,
                "AwsSolutions-COG4",
                "Methods use IAM (SigV4) authorization by default; a Cognito authorizer is the user_pool option.",
            )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "WAF is an account/edge decision; this API is IAM- or Cognito-authorized and usage-plan throttled.",
        )

    @property
    def url(self) -> str:
        return self.api.url

    def _catalog_parameter(self, model: PredictionModel) -> ssm.StringParameter:
        value = json.dumps(
            {
                "endpoint_name": model.endpoint.endpoint_name,
                "model_version": model.model_version,
                "request_schema": model.request_schema,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        size = len(value.encode("utf-8"))
        if size > _ADVANCED_PARAMETER_LIMIT:
            raise ValueError(
                f"{self.node.path}: model {model.name!r}: catalog entry is {size} bytes, above the 8 KB "
                "SSM parameter limit; shorten feature names or split the model's schema"
            )
        return ssm.StringParameter(
            self,
            f"Catalog{_logical(model.name)}",
            parameter_name=f"{self.parameter_prefix}{model.name}",
            string_value=value,
            description=f"Prediction API catalog entry of model {model.name}",
            tier=(
                ssm.ParameterTier.ADVANCED if size > _STANDARD_PARAMETER_LIMIT else ssm.ParameterTier.STANDARD
            ),
        )

    def _validate(self, models: Sequence[PredictionModel]) -> None:
        path = self.node.path
        if not models:
            raise ValueError(f"{path}: models: at least one model is needed")
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise ValueError(f"{path}: models: names must be unique, got {names}")
        for model in models:
            if (
                not model.name
                or any(not (c.isalnum() or c in "-_") for c in model.name)
                or len(model.name) > 63
            ):
                raise ValueError(
                    f"{path}: model name {model.name!r}: use up to 63 letters, digits, '-' or '_'"
                )
            if not model.model_version or "#" in model.model_version:
                raise ValueError(
                    f"{path}: model {model.name!r}: model_version must be non-empty and without '#' "
                    "(it is part of the cache key)"
                )
            unknown = unsupported_keywords(model.request_schema)
            if unknown:
                raise ValueError(
                    f"{path}: model {model.name!r}: request_schema uses unsupported keywords {unknown}; "
                    "the prediction function validates only type, required, properties, "
                    "additionalProperties, minimum, maximum, enum, items, minItems and maxItems"
                )


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-") if part)
