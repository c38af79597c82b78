"""Training stacks: each model's retraining pipeline with managed spot training, sharded by model count."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import durations
from constructs_lib.model_endpoint import rollback_alarm_ids, rollback_alarm_name
from constructs_lib.retraining_pipeline import RetrainingPipeline, RetrainingSteps
from stacks.config.models import ModelConfig, PlatformConfig, duration_seconds
from stacks.feature_store_stack import FeatureStoreStack
from stacks.foundation_stack import FoundationStack
from stacks.serving_stack import endpoint_name


def _seconds(value: str) -> cdk.Duration:
    return durations.seconds(duration_seconds(value))


def training_set_request(config: PlatformConfig, model: ModelConfig) -> dict[str, Any]:
    """The feature store runner's start event (less `output_uri`) for `model`: its labelled rows
    joined point-in-time to every feature of its feature groups. Groups that share a feature
    name get `<group>__` column prefixes, which the runner would otherwise refuse."""
    training = model.training
    assert training is not None
    database, _, table = training.labels_table.partition(".")
    features = {name: [f.name for f in config.feature_group(name).features] for name in model.feature_groups}
    seen: dict[str, int] = {}
    for names in features.values():
        for feature in names:
            seen[feature] = seen.get(feature, 0) + 1
    return {
        "entity_source": f'"{database}"."{table}"',
        "timestamp_column": training.label_timestamp_column,
        "requests": [
            {"group": group, "prefix": any(seen[f] > 1 for f in names)} for group, names in features.items()
        ],
    }


class TrainingStack(cdk.Stack):
    """Retraining pipelines for a shard of the configured models (models without `training` get none)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        environment: str,
        models: list[ModelConfig],
        foundation: FoundationStack,
        feature_store: FeatureStoreStack | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.training_set_function = self._import_training_set_function(feature_store)
        artifacts = foundation.bucket_for(self, "artifacts")
        # One set of step functions and one lock table serve every pipeline of the shard.
        self.steps = RetrainingSteps(
            self, "Steps", key=foundation.data_key, notification_topic=foundation.alarm_topic
        )
        self.training_security_group = ec2.SecurityGroup(
            self,
            "TrainingSecurityGroup",
            vpc=foundation.vpc,
            description="SageMaker training jobs: no inbound; outbound to VPC endpoints and NAT",
        )
        self.pipelines: dict[str, RetrainingPipeline] = {}
        for model in models:
            training = model.training
            if training is None:
                continue
            control = model.experiment.control if model.experiment else model.serving.variants[0].name
            endpoint = endpoint_name(config, environment, model)
            pipeline = RetrainingPipeline(
                self,
                f"Retraining-{model.name}",
                model_name=model.name,
                training_image=training.image,
                inference_image=model.image,
                instance_type=training.instance_type,
                instance_count=training.instance_count,
                volume_size_gb=training.volume_size_gb,
                metric_name=training.objective.name,
                metric_direction=training.objective.direction,
                metric_margin=training.objective.margin,
                metric_regex=training.objective.regex,
                artifact_bucket=artifacts,
                key=foundation.data_key,
                notification_topic=foundation.alarm_topic,
                max_runtime=_seconds(training.max_runtime),
                max_wait=_seconds(training.max_wait),
                managed_spot=training.spot,
                hyperparameters=training.hyperparameters,
                training_set_function=self.training_set_function,
                training_set_request=training_set_request(config, model)
                if self.training_set_function is not None
                else None,
                # The drift baseline profiles model inputs only: not the ids rows are joined on, not labels.
                baseline_excluded_columns=sorted(
                    {
                        *training.label_columns,
                        *(config.feature_group(g).entity_key for g in model.feature_groups),
                    }
                ),
                approval=training.approval,
                approval_timeout=_seconds(training.approval_timeout),
                endpoint_name=endpoint,
                variant_name=control,
                rollback_alarm_names=[
                    rollback_alarm_name(endpoint, alarm)
                    for alarm in rollback_alarm_ids(model.serving.latency_slo_ms)
                ],
                on_drift=model.retraining.on_drift,
                schedule=events.Schedule.expression(model.retraining.schedule)
                if model.retraining.schedule
                else None,
                steps=self.steps,
                vpc=foundation.vpc,
                vpc_subnets=foundation.private_subnets,
                security_groups=[self.training_security_group],
            )
            tags = cdk.Tags.of(pipeline)
            tags.add("team", model.team)
            tags.add("model", model.name)
            self.pipelines[model.name] = pipeline

    def _import_training_set_function(
        self, feature_store: FeatureStoreStack | None
    ) -> lambda_.IFunction | None:
        """The feature store's training-set function, imported from its literal ARN: a token of
        the other stack would become an export, which cdk-nag findings name by export name."""
        if feature_store is None or feature_store.training_set_function_name is None:
            return None
        self.add_stack_dependency(feature_store)
        return lambda_.Function.from_function_attributes(
            self,
            "TrainingSetFunction",
            function_arn=self.format_arn(
                service="lambda",
                resource="function",
                resource_name=feature_store.training_set_function_name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
            same_environment=True,
        )
