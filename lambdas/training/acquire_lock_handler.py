"""First step of a run: check the start event, then take the per-model lock.

A second run for the same model while one is in progress, or a start for a model this
pipeline does not retrain, returns `acquired: false` with a reason; the reason is also
written to the lock table so that it outlives the execution's history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from lambdas.training.run_naming import run_names
from lambdas.training.runtime import client, logger, setting, tracer
from lambdas.training.start_event import decide_start

#: Skip records are evidence for people, not state: they expire after 90 days.
SKIP_RECORD_TTL_SECONDS = 90 * 24 * 3600


class AcquireRequest(BaseModel):
    input: Any = None
    model: str = Field(min_length=1)
    execution: str = Field(min_length=1)
    started: datetime
    artifact_bucket: str = Field(min_length=1)
    lock_ttl_seconds: int = Field(gt=0)


def lock_key(model: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"lock#{model}"}}


def _record_skip(table: str, request: AcquireRequest, now: int, reason: str) -> None:
    client("dynamodb").put_item(
        TableName=table,
        Item={
            "pk": {"S": f"skip#{request.model}#{request.execution}"},
            "model": {"S": request.model},
            "execution": {"S": request.execution},
            "reason": {"S": reason},
            "at": {"N": str(now)},
            "expires_at": {"N": str(now + SKIP_RECORD_TTL_SECONDS)},
        },
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=AcquireRequest)
def handler(event: AcquireRequest, context: LambdaContext) -> dict[str, Any]:
    table = setting("LOCK_TABLE_NAME")
    now = int(datetime.now(UTC).timestamp())
    decision = decide_start(event.input, event.model)
    if not decision.accepted:
        logger.warning("start refused", extra={"reason": decision.reason})
        _record_skip(table, event, now, decision.reason)
        return {"acquired": False, "status": "refused", "reason": decision.reason}
    try:
        client("dynamodb").put_item(
            TableName=table,
            Item={
                **lock_key(event.model),
                "owner": {"S": event.execution},
                "acquired_at": {"N": str(now)},
                "expires_at": {"N": str(now + event.lock_ttl_seconds)},
            },
            # A lock older than its TTL belongs to a run that died without cleaning up.
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        holder = client("dynamodb").get_item(TableName=table, Key=lock_key(event.model)).get("Item", {})
        owner = holder.get("owner", {}).get("S", "unknown")
        reason = f"a retraining of '{event.model}' is already running ({owner}); this start was skipped"
        logger.info("lock busy", extra={"owner": owner})
        _record_skip(table, event, now, reason)
        return {"acquired": False, "status": "busy", "reason": reason}
    names = run_names(event.model, event.started, event.artifact_bucket)
    logger.info("lock acquired", extra={"run_id": names.run_id, "trigger": decision.trigger})
    return {
        "acquired": True,
        "status": "acquired",
        "reason": decision.reason,
        "trigger": decision.trigger,
        **names.as_dict(),
    }
