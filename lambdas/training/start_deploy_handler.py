"""Start a guarded endpoint update with the approved model package.

The new endpoint config is a copy of the live one with the new model in the target
variant; the update is blue/green with a canary and alarm-driven auto-rollback.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from lambdas.training.deployment import deployment_config, next_endpoint_config
from lambdas.training.run_naming import sanitize_name
from lambdas.training.runtime import client, logger, tracer

_NAME_MAX = 63


class DeployRequest(BaseModel):
    model: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    endpoint_name: str = Field(min_length=1)
    variant_name: str | None = None
    model_package_arn: str = Field(min_length=1)
    execution_role_arn: str = Field(min_length=1)
    alarm_names: list[str] = Field(min_length=1)
    canary_percent: int = Field(default=10, ge=1, le=50)
    canary_wait_seconds: int = Field(default=600, ge=0)
    termination_wait_seconds: int = Field(default=600, ge=0)


def resource_name(model: str, run_id: str) -> str:
    suffix = f"-{run_id}"
    return sanitize_name(model)[: _NAME_MAX - len(suffix)].strip("-") + suffix


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=DeployRequest)
def handler(event: DeployRequest, context: LambdaContext) -> dict[str, Any]:
    sagemaker = client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=event.endpoint_name)
    previous = endpoint["EndpointConfigName"]
    current = sagemaker.describe_endpoint_config(EndpointConfigName=previous)
    name = resource_name(event.model, event.run_id)
    guardrails = deployment_config(
        alarm_names=event.alarm_names,
        canary_percent=event.canary_percent,
        canary_wait_seconds=event.canary_wait_seconds,
        termination_wait_seconds=event.termination_wait_seconds,
    )
    new_config = next_endpoint_config(
        current, new_name=name, model_name=name, variant_name=event.variant_name
    )
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"ModelPackageName": event.model_package_arn},
        ExecutionRoleArn=event.execution_role_arn,
    )
    sagemaker.create_endpoint_config(**new_config)
    sagemaker.update_endpoint(
        EndpointName=event.endpoint_name,
        EndpointConfigName=name,
        RetainAllVariantProperties=False,
        DeploymentConfig=guardrails,
    )
    logger.info("endpoint update started", extra={"endpoint": event.endpoint_name, "config": name})
    return {
        "endpoint_name": event.endpoint_name,
        "endpoint_config_name": name,
        "previous_config_name": previous,
        "model_name": name,
    }
