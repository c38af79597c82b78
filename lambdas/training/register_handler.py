"""Register the trained model in the model's package group: Approved, pending, or Rejected."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from lambdas.training.registration import ApprovalMode, approval_status, metrics_report, model_package_request
from lambdas.training.runtime import client, logger, tracer


class TrainedModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    TrainingJobName: str
    ModelArtifacts: dict[str, str]


class EvaluationResult(BaseModel):
    model_config = ConfigDict(extra="ignore")
    evaluation: dict[str, Any]
    better: bool
    spot_savings: float | None = None


class RegisterRequest(BaseModel):
    model_package_group: str = Field(min_length=1)
    image_uri: str = Field(min_length=1)
    approval_mode: ApprovalMode
    training: TrainedModel
    evaluation: EvaluationResult
    training_data_uri: str = Field(min_length=1)
    feature_fingerprint: str = ""
    metrics_uri: str | None = Field(default=None, pattern=r"^s3://[^/]+/.+")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=RegisterRequest)
def handler(event: RegisterRequest, context: LambdaContext) -> dict[str, Any]:
    status = approval_status(better=event.evaluation.better, mode=event.approval_mode)
    if event.metrics_uri:
        report = metrics_report(
            training_job_name=event.training.TrainingJobName,
            evaluation=event.evaluation.evaluation,
            spot_savings=event.evaluation.spot_savings,
        )
        bucket, _, key = event.metrics_uri.removeprefix("s3://").partition("/")
        client("s3").put_object(
            Bucket=bucket, Key=key, Body=json.dumps(report).encode(), ContentType="application/json"
        )
    request = model_package_request(
        group_name=event.model_package_group,
        image_uri=event.image_uri,
        model_data_url=event.training.ModelArtifacts["S3ModelArtifacts"],
        approval=status,
        training_job_name=event.training.TrainingJobName,
        training_data_uri=event.training_data_uri,
        feature_fingerprint=event.feature_fingerprint,
        evaluation=event.evaluation.evaluation,
        spot_savings=event.evaluation.spot_savings,
        metrics_uri=event.metrics_uri,
    )
    arn = client("sagemaker").create_model_package(**request)["ModelPackageArn"]
    logger.info("registered", extra={"model_package_arn": arn, "approval": status})
    return {"model_package_arn": arn, "approval_status": status}
