"""EventBridge "SageMaker Model Package State Change" → resume the waiting run.

Approved resumes it with success; Rejected fails the waiting task with
`ModelPackageRejected`, which the state machine treats as "do not deploy".
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from lambdas.training.errors import REJECTED_ERROR
from lambdas.training.request_approval_handler import approval_key
from lambdas.training.runtime import client, logger, setting, tracer

_STALE_TOKEN_ERRORS = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


class PackageStateDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ModelPackageArn: str
    ModelApprovalStatus: str
    ModelPackageGroupName: str | None = None


class PackageStateChange(EventBridgeModel):
    detail: PackageStateDetail


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=PackageStateChange)
def handler(event: PackageStateChange, context: LambdaContext) -> dict[str, Any]:
    detail = event.detail
    if detail.ModelApprovalStatus not in {"Approved", "Rejected"}:
        return {"resumed": False, "reason": f"status {detail.ModelApprovalStatus} is not a decision"}
    table = setting("LOCK_TABLE_NAME")
    dynamodb = client("dynamodb")
    item = dynamodb.get_item(TableName=table, Key=approval_key(detail.ModelPackageArn)).get("Item")
    if not item:
        # Packages approved outside a run (or after the run timed out) have no waiting task.
        logger.info("no run waits for this package", extra={"arn": detail.ModelPackageArn})
        return {"resumed": False, "reason": "no retraining run is waiting for this package"}
    token = item["task_token"]["S"]
    sfn = client("stepfunctions")
    try:
        if detail.ModelApprovalStatus == "Approved":
            sfn.send_task_success(
                taskToken=token,
                output=json.dumps({"approved": True, "model_package_arn": detail.ModelPackageArn}),
            )
        else:
            sfn.send_task_failure(
                taskToken=token,
                error=REJECTED_ERROR,
                cause=f"model package {detail.ModelPackageArn} was rejected by its reviewer",
            )
    except ClientError as err:
        if err.response["Error"]["Code"] not in _STALE_TOKEN_ERRORS:
            raise
        # The run timed out waiting (and has cleaned up); a late decision has nothing to resume.
        dynamodb.delete_item(TableName=table, Key=approval_key(detail.ModelPackageArn))
        logger.warning(
            "decision arrived after the run stopped waiting", extra={"arn": detail.ModelPackageArn}
        )
        return {"resumed": False, "reason": "the run waiting for this package has already ended"}
    dynamodb.delete_item(TableName=table, Key=approval_key(detail.ModelPackageArn))
    logger.info("resumed run", extra={"status": detail.ModelApprovalStatus})
    return {"resumed": True, "status": detail.ModelApprovalStatus}
