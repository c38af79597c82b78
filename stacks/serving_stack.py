"""Serving stacks: one SageMaker endpoint per model and a prediction API, sharded by model count."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from constructs_lib import durations
from constructs_lib.model_endpoint import (
    DataCaptureSpec,
    DeploymentPolicy,
    ModelEndpoint,
    ScalingSpec,
    ScheduledCapacity,
    ServerlessSpec,
    VariantSpec,
)
from constructs_lib.prediction_api import PredictionApi, PredictionModel, Throttling
from lambdas.serving.config_hash import content_hash
from lambdas.serving.request_schema import FeatureSpec, schema_for_features
from stacks.config.models import ModelConfig, PlatformConfig, Variant, duration_seconds
from stacks.foundation_stack import FoundationStack

_INPUT_DTYPES = {"number": "float", "integer": "int", "string": "string", "boolean": "bool"}
_ROUTING = {"canary": "CANARY", "linear": "LINEAR", "all_at_once": "ALL_AT_ONCE"}


def endpoint_name(config: PlatformConfig, environment: str, model: ModelConfig) -> str:
    return f"{config.name}-{environment}-{model.name}"[:63]


def variant_spec(variant: Variant) -> VariantSpec:
    scaling = variant.scaling
    return VariantSpec(
        name=variant.name,
        weight=variant.weight,
        instance_type=variant.instance_type,
        initial_instance_count=variant.initial_instance_count,
        model_artifact=variant.model_artifact,
        serverless=ServerlessSpec(
            memory_size_mb=variant.serverless.memory_size_mb,
            max_concurrency=variant.serverless.max_concurrency,
            provisioned_concurrency=variant.serverless.provisioned_concurrency,
        )
        if variant.serverless
        else None,
        scaling=ScalingSpec(
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            target_invocations_per_instance=scaling.target_invocations_per_instance,
            target_latency_ms=scaling.target_latency_ms,
            scale_in_cooldown=durations.seconds(duration_seconds(scaling.scale_in_cooldown)),
            scale_out_cooldown=durations.seconds(duration_seconds(scaling.scale_out_cooldown)),
            scheduled=tuple(
                ScheduledCapacity(
                    name=s.name, schedule=s.schedule, min_capacity=s.min_capacity, max_capacity=s.max_capacity
                )
                for s in scaling.scheduled
            ),
        )
        if scaling
        else None,
    )


def deployment_policy(model: ModelConfig) -> DeploymentPolicy:
    policy = model.serving.deployment
    return DeploymentPolicy(
        traffic_routing=_ROUTING[policy.strategy],  # type: ignore[arg-type]
        canary_percent=policy.canary_percent,
        linear_step_percent=policy.linear_step_percent,
        wait_interval=durations.seconds(duration_seconds(policy.wait_interval)),
        termination_wait=durations.seconds(duration_seconds(policy.termination_wait)),
        max_execution_time=durations.seconds(duration_seconds(policy.max_execution_time)),
        auto_rollback=policy.auto_rollback,
    )


def model_version(model: ModelConfig) -> str:
    """Changes whenever what answers a request changes, so cached predictions are not reused."""
    return content_hash(
        {
            "image": model.image,
            "artifact": model.artifact,
            "variants": [v.model_dump() for v in model.serving.variants],
        }
    )


def request_schema(model: ModelConfig) -> dict[str, object]:
    return schema_for_features(
        model.name,
        [
            FeatureSpec(
                name=i.name,
                dtype=_INPUT_DTYPES[i.type],  # type: ignore[arg-type]
                required=i.required,
                minimum=i.minimum,
                maximum=i.maximum,
            )
            for i in model.serving.inputs
        ],
    )


class ServingStack(cdk.Stack):
    """Endpoints for a shard of the configured models, and the prediction API in front of them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        environment: str,
        models: list[ModelConfig],
        shard: int,
        foundation: FoundationStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        capture_bucket = foundation.bucket_for(self, "datacapture")
        self.endpoints: dict[str, ModelEndpoint] = {}
        for model in models:
            endpoint = ModelEndpoint(
                self,
                f"Endpoint-{model.name}",
                endpoint_name=endpoint_name(config, environment, model),
                image=model.image,
                artifact=model.artifact,
                variants=[variant_spec(v) for v in model.serving.variants],
                key=foundation.data_key,
                vpc=foundation.vpc,
                vpc_subnets=foundation.private_subnets,
                data_capture=DataCaptureSpec(
                    bucket=capture_bucket,
                    prefix=f"datacapture/{model.name}",
                    key=foundation.data_key,
                    sampling_percent=model.serving.data_capture.sampling_percent,
                )
                if model.serving.data_capture.enabled
                else None,
                deployment=deployment_policy(model),
                latency_slo_ms=model.serving.latency_slo_ms,
                alarm_topic=foundation.alarm_topic,
            )
            tags = cdk.Tags.of(endpoint)
            tags.add("team", model.team)
            tags.add("model", model.name)
            self.endpoints[model.name] = endpoint

        api = config.prediction_api
        self.api = PredictionApi(
            self,
            "PredictionApi",
            api_name=f"{config.name}-{environment}-predict-{shard}",
            models=[
                PredictionModel(
                    name=model.name,
                    endpoint=self.endpoints[model.name],
                    model_version=model_version(model),
                    request_schema=request_schema(model),
                )
                for model in models
            ],
            key=foundation.data_key,
            log_key=foundation.ops_key,
            throttling=Throttling(
                rate_limit=api.rate_limit, burst_limit=api.burst_limit, daily_quota=api.daily_quota
            ),
            cache_ttl=durations.seconds(min(duration_seconds(m.serving.cache_ttl) for m in models)),
        )
