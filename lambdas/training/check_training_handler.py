"""Read a finished training job: a compact record when it completed, a named error when not.

The state machine's polling loop keeps only the job's name and status (the full
DescribeTrainingJob response carries timestamps and can approach the 256 KB state limit),
so this step reads the job itself and returns just what evaluation and registration need.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from lambdas.training.errors import SpotCapacityError, TrainingJobFailedError
from lambdas.training.runtime import client, logger, tracer
from lambdas.training.training_failures import classify_failure


class TrainingJobRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    TrainingJobName: str = Field(min_length=1)


def compact_job(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "TrainingJobName": job["TrainingJobName"],
        "TrainingJobStatus": job["TrainingJobStatus"],
        "FinalMetricDataList": [
            {"MetricName": m["MetricName"], "Value": float(m["Value"])}
            for m in job.get("FinalMetricDataList", [])
        ],
        "BillableTimeInSeconds": job.get("BillableTimeInSeconds"),
        "TrainingTimeInSeconds": job.get("TrainingTimeInSeconds"),
        "ModelArtifacts": {"S3ModelArtifacts": job["ModelArtifacts"]["S3ModelArtifacts"]},
        "CheckpointS3Uri": job.get("CheckpointConfig", {}).get("S3Uri"),
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=TrainingJobRef)
def handler(event: TrainingJobRef, context: LambdaContext) -> dict[str, Any]:
    job = client("sagemaker").describe_training_job(TrainingJobName=event.TrainingJobName)
    status = job["TrainingJobStatus"]
    if status == "Completed":
        return compact_job(job)
    failure = classify_failure(status, job.get("FailureReason"))
    logger.warning("training did not complete", extra={"job": event.TrainingJobName, "cause": failure.cause})
    message = f"{event.TrainingJobName}: {failure.cause}"
    if failure.retryable:
        raise SpotCapacityError(message)
    raise TrainingJobFailedError(message)
