"""Poll the endpoint update: in progress, done, or a named error for rollback and failure."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from lambdas.training.deployment import deployment_outcome
from lambdas.training.errors import DeploymentFailedError, DeploymentRolledBackError
from lambdas.training.runtime import client, logger, tracer


class DeploymentState(BaseModel):
    model_config = ConfigDict(extra="ignore")
    endpoint_name: str = Field(min_length=1)
    endpoint_config_name: str = Field(min_length=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=DeploymentState)
def handler(event: DeploymentState, context: LambdaContext) -> dict[str, Any]:
    endpoint = client("sagemaker").describe_endpoint(EndpointName=event.endpoint_name)
    outcome, detail = deployment_outcome(endpoint, event.endpoint_config_name)
    logger.info("deployment state", extra={"outcome": outcome, "detail": detail})
    if outcome == "rolled_back":
        raise DeploymentRolledBackError(f"{event.endpoint_name}: {detail}")
    if outcome == "failed":
        raise DeploymentFailedError(f"{event.endpoint_name}: {detail}")
    return {"outcome": outcome, "detail": detail, "done": outcome == "succeeded"}
