"""The hardened REST API both platform APIs (prediction, vector search) are built on.

Regional, X-Ray traced, KMS-encrypted JSON access logs (retained), errors-only execution
logs without request data, stage throttling, a body+parameter request validator, and a 400
response that lists the validation problems with the request id.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


@dataclass(frozen=True)
class HardenedRestApi:
    api: apigw.RestApi
    access_log_group: logs.LogGroup
    request_validator: apigw.RequestValidator


def hardened_rest_api(
    scope: Construct,
    *,
    description: str,
    invalid_request_message: str,
    stage_name: str,
    rate_limit: float,
    burst_limit: int,
    log_key: kms.IKey | None,
    log_retention: logs.RetentionDays,
    rest_api_name: str | None = None,
) -> HardenedRestApi:
    """Adds `AccessLogs`, `Api` and the `BodyValidator` / `InvalidBody` response to `scope`."""
    access_log_group = logs.LogGroup(
        scope,
        "AccessLogs",
        encryption_key=log_key,
        retention=log_retention,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    api = apigw.RestApi(
        scope,
        "Api",
        rest_api_name=rest_api_name,
        description=description,
        cloud_watch_role=False,
        endpoint_types=[apigw.EndpointType.REGIONAL],
        deploy_options=apigw.StageOptions(
            stage_name=stage_name,
            tracing_enabled=True,
            metrics_enabled=True,
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
            access_log_destination=apigw.LogGroupLogDestination(access_log_group),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
            throttling_rate_limit=rate_limit,
            throttling_burst_limit=burst_limit,
        ),
    )
    validator = api.add_request_validator(
        "BodyValidator", validate_request_body=True, validate_request_parameters=True
    )
    api.add_gateway_response(
        "InvalidBody",
        type=apigw.ResponseType.BAD_REQUEST_BODY,
        status_code="400",
        templates={
            "application/json": (
                f'{{"message": "{invalid_request_message}", '
                '"problems": "$context.error.validationErrorString", '
                '"correlation_id": "$context.requestId"}'
            )
        },
    )
    return HardenedRestApi(api, access_log_group, validator)
