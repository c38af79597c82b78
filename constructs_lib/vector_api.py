"""`VectorSearchApi`: a REST API (`POST /search`) in front of a VectorSearchFunction.

IAM (SigV4) authorization, a JSON schema on the body checked by API Gateway before the
function runs, throttling, X-Ray and JSON access logs in a retained, encrypted log group.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.nag import acknowledge
from constructs_lib.rest_api import hardened_rest_api
from constructs_lib.vector_pipeline import VectorSearchFunction

SEARCH_BODY_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    type=apigw.JsonSchemaType.OBJECT,
    required=["indices"],
    additional_properties=False,
    properties={
        "indices": apigw.JsonSchema(
            type=apigw.JsonSchemaType.ARRAY,
            min_items=1,
            max_items=10,
            items=apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
        ),
        "vector": apigw.JsonSchema(
            type=apigw.JsonSchemaType.ARRAY,
            min_items=1,
            items=apigw.JsonSchema(type=apigw.JsonSchemaType.NUMBER),
        ),
        "text": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=20_000),
        "k": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER, minimum=1),
        "oversample": apigw.JsonSchema(type=apigw.JsonSchemaType.INTEGER, minimum=1, maximum=100),
        "filters": apigw.JsonSchema(type=apigw.JsonSchemaType.OBJECT),
    },
)


class VectorSearchApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        search: VectorSearchFunction,
        log_key: kms.IKey | None = None,
        stage_name: str = "v1",
        rate_limit: float = 100,
        burst_limit: int = 200,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        rest = hardened_rest_api(
            self,
            description="Vector search: k-NN with exact re-ranking across indices",
            invalid_request_message="invalid search request",
            stage_name=stage_name,
            rate_limit=rate_limit,
            burst_limit=burst_limit,
            log_key=log_key,
            log_retention=log_retention,
        )
        self.api, self.access_log_group, validator = rest.api, rest.access_log_group, rest.request_validator
        body_model = self.api.add_model(
            "SearchRequest", content_type="application/json", schema=SEARCH_BODY_SCHEMA
        )
        self.method = self.api.root.add_resource("search").add_method(
            "POST",
            apigw.LambdaIntegration(search.function.function, proxy=True),
            authorization_type=apigw.AuthorizationType.IAM,
            request_validator=validator,
            request_models={"application/json": body_model},
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "The search method uses IAM (SigV4) authorization: callers are services with IAM roles.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "WAF is an account/edge decision; this API is IAM-authorized and stage-throttled.",
        )

    @property
    def url(self) -> str:
        return self.api.url

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["execute-api:Invoke"],
            resource_arns=[
                self.api.arn_for_execute_api("POST", "/search", self.api.deployment_stage.stage_name)
            ],
        )
