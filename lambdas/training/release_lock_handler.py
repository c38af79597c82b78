"""Last step of every path: stop what this run started (on failure) and release the lock.

Also the target of the rule on aborted / timed-out executions, which end without running
any state of their own. That rule serves every pipeline of a stack, so instead of `model` it
sends the execution's `state_machine` and the `models` of the stack's state machines, and the
model is the one whose state machine the run belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, model_validator

from lambdas.training.acquire_lock_handler import lock_key
from lambdas.training.run_naming import job_name_pattern, sanitize_name
from lambdas.training.runtime import client, logger, setting, tracer


class StateMachineModel(BaseModel):
    state_machine: str = Field(min_length=1)
    model: str = Field(min_length=1)


class ReleaseRequest(BaseModel):
    model: str = ""
    execution: str = Field(min_length=1)
    job_prefix: str | None = None
    stop_training_jobs: bool = False
    state_machine: str | None = None
    models: list[StateMachineModel] = []

    @model_validator(mode="after")
    def _model_of_the_run(self) -> ReleaseRequest:
        if self.model:
            return self
        owners = [m.model for m in self.models if m.state_machine == self.state_machine]
        if not owners:
            raise ValueError(
                f"model: not given, and state machine {self.state_machine!r} is none of the pipelines' "
                f"{[m.state_machine for m in self.models]}"
            )
        self.model = owners[0]
        return self


def _stop_running_jobs(name_contains: str, belongs: Callable[[str], bool]) -> list[str]:
    sagemaker = client("sagemaker")
    stopped: list[str] = []
    paginator_args: dict[str, Any] = {"NameContains": name_contains, "StatusEquals": "InProgress"}
    while True:
        page = sagemaker.list_training_jobs(**paginator_args)
        for job in page.get("TrainingJobSummaries", []):
            # NameContains matches anywhere in the name; `belongs` decides what is ours.
            if belongs(job["TrainingJobName"]) and job.get("TrainingJobStatus") == "InProgress":
                sagemaker.stop_training_job(TrainingJobName=job["TrainingJobName"])
                stopped.append(job["TrainingJobName"])
        if not page.get("NextToken"):
            return stopped
        paginator_args["NextToken"] = page["NextToken"]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=ReleaseRequest)
def handler(event: ReleaseRequest, context: LambdaContext) -> dict[str, Any]:
    stopped: list[str] = []
    if event.stop_training_jobs and event.job_prefix:
        prefix = event.job_prefix
        stopped = _stop_running_jobs(prefix, lambda name: name.startswith(prefix))
    elif event.stop_training_jobs:
        # An aborted or timed-out execution never learned its prefix: at most one run per
        # model exists (the lock), so every running job of the model is that run's.
        pattern = job_name_pattern(event.model)
        stopped = _stop_running_jobs(sanitize_name(event.model)[:20], lambda name: bool(pattern.match(name)))
    try:
        client("dynamodb").delete_item(
            TableName=setting("LOCK_TABLE_NAME"),
            Key=lock_key(event.model),
            ConditionExpression="#owner = :me",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":me": {"S": event.execution}},
        )
        released = True
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        # Someone else's lock (or none): never delete a lock this run does not hold.
        released = False
    logger.info("release", extra={"released": released, "stopped": stopped})
    return {"released": released, "stopped_jobs": stopped}
