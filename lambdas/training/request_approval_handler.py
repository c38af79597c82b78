"""Park the run's task token until a person approves or rejects the model package.

The token is stored under the package ARN; the approval callback finds it there when
SageMaker reports the package's new approval status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from lambdas.training.runtime import client, logger, setting, tracer


class ApprovalRequest(BaseModel):
    task_token: str = Field(min_length=1)
    model: str = Field(min_length=1)
    model_package_arn: str = Field(min_length=1)
    execution: str = Field(min_length=1)
    timeout_seconds: int = Field(gt=0)


def approval_key(package_arn: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"approval#{package_arn}"}}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=ApprovalRequest)
def handler(event: ApprovalRequest, context: LambdaContext) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    client("dynamodb").put_item(
        TableName=setting("LOCK_TABLE_NAME"),
        Item={
            **approval_key(event.model_package_arn),
            "task_token": {"S": event.task_token},
            "model": {"S": event.model},
            "execution": {"S": event.execution},
            "expires_at": {"N": str(now + event.timeout_seconds + 3600)},
        },
    )
    client("sns").publish(
        TopicArn=setting("NOTIFY_TOPIC_ARN"),
        Subject=f"Retraining awaits approval: {event.model}"[:100],
        Message=(
            f"Model package {event.model_package_arn} of '{event.model}' is PendingManualApproval.\n"
            f"Approve or reject it in the SageMaker model registry within {event.timeout_seconds} s.\n"
            f"Execution: {event.execution}"
        ),
    )
    logger.info("waiting for approval", extra={"model_package_arn": event.model_package_arn})
    return {"waiting": True}
