"""Turn a finished training job that did not complete into a named Step Functions error."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from lambdas.training.errors import SpotCapacityError, TrainingJobFailedError
from lambdas.training.runtime import logger, tracer
from lambdas.training.training_failures import classify_failure


class TrainingJobState(BaseModel):
    model_config = ConfigDict(extra="ignore")
    TrainingJobName: str
    TrainingJobStatus: str
    FailureReason: str | None = None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=TrainingJobState)
def handler(event: TrainingJobState, context: LambdaContext) -> dict[str, Any]:
    if event.TrainingJobStatus == "Completed":
        return {"TrainingJobName": event.TrainingJobName, "completed": True}
    failure = classify_failure(event.TrainingJobStatus, event.FailureReason)
    logger.warning("training did not complete", extra={"job": event.TrainingJobName, "cause": failure.cause})
    message = f"{event.TrainingJobName}: {failure.cause}"
    if failure.retryable:
        raise SpotCapacityError(message)
    raise TrainingJobFailedError(message)
