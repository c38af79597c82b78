"""Evaluate the finished job against the production model and publish its spot savings."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from lambdas.training.evaluation import Direction, evaluate, final_metric
from lambdas.training.registration import production_metric
from lambdas.training.runtime import client, logger, metrics, tracer
from lambdas.training.spot_costs import billed_cost, spot_savings


class TrainingJob(BaseModel):
    model_config = ConfigDict(extra="ignore")
    TrainingJobName: str
    FinalMetricDataList: list[dict[str, Any]] = Field(default_factory=list)
    BillableTimeInSeconds: float | None = None
    TrainingTimeInSeconds: float | None = None


class EvaluateRequest(BaseModel):
    model: str = Field(min_length=1)
    training: TrainingJob
    metric_name: str = Field(min_length=1)
    direction: Direction
    margin: float = Field(ge=0)
    model_package_group: str = Field(min_length=1)
    instance_count: int = Field(ge=1)
    hourly_price: float | None = Field(default=None, ge=0)


def latest_approved_metric(group: str, metric_name: str) -> float | None:
    """The metric of the newest Approved package: that is the model in production."""
    sagemaker = client("sagemaker")
    listing = sagemaker.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )
    summaries = listing.get("ModelPackageSummaryList", [])
    if not summaries:
        return None
    package = sagemaker.describe_model_package(ModelPackageName=summaries[0]["ModelPackageArn"])
    return production_metric(package.get("CustomerMetadataProperties"), metric_name)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=EvaluateRequest)
def handler(event: EvaluateRequest, context: LambdaContext) -> dict[str, Any]:
    job = event.training
    candidate = final_metric(job.FinalMetricDataList, event.metric_name)
    production = latest_approved_metric(event.model_package_group, event.metric_name)
    verdict = evaluate(
        metric_name=event.metric_name,
        candidate=candidate,
        production=production,
        margin=event.margin,
        direction=event.direction,
    )
    savings = spot_savings(job.BillableTimeInSeconds, job.TrainingTimeInSeconds)
    metrics.add_dimension(name="model", value=event.model)
    if savings is not None:
        metrics.add_metric(name="SpotSavings", unit=MetricUnit.Percent, value=round(savings * 100, 3))
    if job.BillableTimeInSeconds is not None:
        metrics.add_metric(
            name="BillableTrainingSeconds", unit=MetricUnit.Seconds, value=job.BillableTimeInSeconds
        )
    logger.info("evaluated", extra={"evaluation": verdict.as_dict(), "spot_savings": savings})
    return {
        "evaluation": verdict.as_dict(),
        "better": verdict.better,
        "spot_savings": savings,
        "billable_seconds": job.BillableTimeInSeconds,
        "training_seconds": job.TrainingTimeInSeconds,
        "cost_usd": billed_cost(job.BillableTimeInSeconds, event.instance_count, event.hourly_price),
    }
