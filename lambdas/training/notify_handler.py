"""Publish the run's summary (job, metrics, decision, cost, spot savings) to the alarm topic."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from lambdas.training.runtime import client, logger, setting, tracer
from lambdas.training.summary import render, summary_from_state


class NotifyRequest(BaseModel):
    model: str = Field(min_length=1)
    outcome: str = Field(min_length=1)
    execution: str = Field(min_length=1)
    state: dict[str, Any] = Field(default_factory=dict)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=NotifyRequest)
def handler(event: NotifyRequest, context: LambdaContext) -> dict[str, Any]:
    summary = summary_from_state(
        event.state, model=event.model, outcome=event.outcome, execution=event.execution
    )
    subject, message = render(summary)
    response = client("sns").publish(TopicArn=setting("NOTIFY_TOPIC_ARN"), Subject=subject, Message=message)
    logger.info("notified", extra={"subject": subject})
    return {"subject": subject, "message_id": response["MessageId"]}
