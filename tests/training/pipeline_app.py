"""One synthesized stack holding two retraining pipelines, shared by the pipeline tests.

`fraud` approves better models automatically and deploys to an endpoint; `churn` waits
for a reviewer. Both share one set of Lambda steps, as pipelines in a stack should. Poll and retry intervals are one second so that moto's interpreter, which
really waits, runs each scenario in a few seconds.

`fraud` builds its training set with the feature store's real Athena runner
(`lambdas.feature_store.athena_handler`), configured by environment as the FeatureStore
construct configures it; the harness stands in for Athena itself.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.nag import acknowledge
from constructs_lib.retraining_pipeline import RetrainingPipeline, RetrainingSteps
from lambdas.feature_store import settings as feature_store_env
from lambdas.feature_store.registry import Dtype, Feature, FeatureGroup

ACCOUNT = "123456789012"
REGION = "eu-west-1"
FAST = cdk.Duration.seconds(1)

GLUE_DATABASE = "feature_store"
ATHENA_RESULTS = "s3://athenaresults/training-sets/"
CARD_ACTIVITY = FeatureGroup(
    name="card_activity",
    entity_key="card_id",
    owner_team="risk",
    features=(
        Feature(name="amount_1h", dtype=Dtype.FLOAT64, max_age_seconds=3600),
        Feature(name="country", dtype=Dtype.STRING),
    ),
)
#: The start event of the training-set runner, less the `output_uri` the pipeline adds.
TRAINING_SET_REQUEST: dict[str, Any] = {
    "entity_source": '"ml"."fraud_labels"',
    "timestamp_column": "event_time",
    "requests": [{"group": "card_activity", "features": ["amount_1h", "country"]}],
    "time_range": ["2026-01-01", "2026-01-31"],
}

#: Entity key, label and the runner's bookkeeping column; the request's event time is excluded by the pipeline.
BASELINE_EXCLUDED = ["card_id", "label", "query_execution_id"]


def build_stack(
    *, nag: bool = False, churn_schedule: cdk.aws_events.Schedule | None = None, **overrides: Any
) -> tuple[cdk.Stack, dict[str, RetrainingPipeline]]:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Retraining", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Artifacts", encryption_key=key, enforce_ssl=True)
    acknowledge(
        bucket, "AwsSolutions-S1", "Test stand-in for the platform artifact bucket, which logs access."
    )
    topic = sns.Topic(stack, "Alarms", master_key=key)
    # The feature store's Athena runner belongs to another stack; the pipeline only needs an IFunction.
    training_set = lambda_.Function(
        stack,
        "FeatureStoreQuery",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="lambdas.feature_store.athena_handler.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        environment={
            feature_store_env.ENV_ATHENA_WORKGROUP: "primary",
            feature_store_env.ENV_ATHENA_OUTPUT: ATHENA_RESULTS,
            feature_store_env.ENV_GLUE_DATABASE: GLUE_DATABASE,
        },
    )
    acknowledge(
        training_set,
        "AwsSolutions-IAM4",
        "Test stand-in for the feature store's query function, which is not part of this domain.",
        applies_to=["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
    )
    acknowledge(training_set, "AwsSolutions-L1", "Test stand-in for the feature store's query function.")
    steps = RetrainingSteps(stack, "RetrainingSteps", key=key, notification_topic=topic)
    common: dict[str, Any] = {
        "training_image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/fraud-train:3",
        "inference_image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/fraud-serve:3",
        "instance_type": "ml.m5.xlarge",
        "metric_name": "validation:auc",
        "metric_margin": 0.01,
        "artifact_bucket": bucket,
        "key": key,
        "notification_topic": topic,
        "max_runtime": cdk.Duration.hours(2),
        "max_wait": cdk.Duration.hours(4),
        "instance_hourly_price": 0.23,
        "feature_schema": {"amount": "float", "country": "string"},
        "poll_interval": FAST,
        "capacity_retry_interval": FAST,
        "capacity_retry_attempts": 1,
        "capacity_retry_backoff": 1.0,
        "steps": steps,
    }
    pipelines = {
        "fraud": RetrainingPipeline(
            stack,
            "FraudRetraining",
            model_name="fraud",
            approval="automatic",
            endpoint_name="fraud",
            variant_name="blue",
            rollback_alarm_names=["fraud-p99-latency"],
            schedule=cdk.aws_events.Schedule.rate(cdk.Duration.days(7)),
            **{
                **common,
                "training_set_function": training_set,
                "training_set_request": TRAINING_SET_REQUEST,
                "baseline_excluded_columns": BASELINE_EXCLUDED,
                **overrides,
            },
        ),
        "churn": RetrainingPipeline(
            stack,
            "ChurnRetraining",
            model_name="churn",
            approval="manual",
            endpoint_name="churn",
            rollback_alarm_names=["churn-errors"],
            schedule=churn_schedule,
            **common,
        ),
    }
    return stack, pipelines


def template_json(stack: cdk.Stack) -> dict[str, Any]:
    return dict(Template.from_stack(stack).to_json())
