"""Guarded endpoint update: the next endpoint config, the deployment guardrails, and what
the endpoint's state after an update means."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from lambdas.common.errors import InputError

#: Fields DescribeEndpointConfig returns that CreateEndpointConfig does not accept.
_RESPONSE_ONLY = {"EndpointConfigArn", "CreationTime", "ResponseMetadata", "EndpointConfigName"}

Outcome = Literal["in_progress", "succeeded", "rolled_back", "failed"]


def next_endpoint_config(
    current: Mapping[str, Any], *, new_name: str, model_name: str, variant_name: str | None
) -> dict[str, Any]:
    """A copy of the current config with `model_name` in the target variant.

    Everything else (instance types, data capture, KMS key, other variants) is carried over
    so that retraining changes the model and nothing else.
    """
    variants = [dict(v) for v in current.get("ProductionVariants", [])]
    if not variants:
        raise InputError.single(
            "ProductionVariants", "the current endpoint config has no production variants"
        )
    if variant_name is None:
        if len(variants) != 1:
            names = [v.get("VariantName") for v in variants]
            raise InputError.single(
                "variant_name", f"the endpoint has variants {names}; name the one to replace"
            )
        targets = [variants[0]]
    else:
        targets = [v for v in variants if v.get("VariantName") == variant_name]
        if not targets:
            names = [v.get("VariantName") for v in variants]
            raise InputError.single(
                "variant_name", f"'{variant_name}' is not one of the endpoint's variants {names}"
            )
    for variant in targets:
        variant["ModelName"] = model_name
    # Empty optional blocks (e.g. `DataCaptureConfig: {}`) are not valid input to CreateEndpointConfig.
    request = {k: v for k, v in current.items() if k not in _RESPONSE_ONLY and v not in (None, {}, [])}
    request["EndpointConfigName"] = new_name
    request["ProductionVariants"] = variants
    return request


def deployment_config(
    *,
    alarm_names: Sequence[str],
    canary_percent: int = 10,
    canary_wait_seconds: int = 600,
    termination_wait_seconds: int = 600,
) -> dict[str, Any]:
    """Blue/green with a canary step and alarm-driven auto-rollback (UpdateEndpoint DeploymentConfig)."""
    if not 1 <= canary_percent <= 50:
        raise InputError.single("canary_percent", f"{canary_percent} must be between 1 and 50")
    if not alarm_names:
        raise InputError.single("alarm_names", "a guarded deployment needs at least one rollback alarm")
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": canary_wait_seconds,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary_percent},
            },
            "TerminationWaitInSeconds": termination_wait_seconds,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in alarm_names]},
    }


def deployment_outcome(endpoint: Mapping[str, Any], expected_config: str) -> tuple[Outcome, str]:
    """What a DescribeEndpoint response says about our update.

    SageMaker reports a rollback as an endpoint back InService on the *old* config, so
    "InService" alone is not success: the config name must be the one we deployed.
    """
    status = str(endpoint.get("EndpointStatus", ""))
    config = endpoint.get("EndpointConfigName")
    reason = str(endpoint.get("FailureReason") or "")
    if status in {"Updating", "Creating", "SystemUpdating", "RollingBack"}:
        return "in_progress", f"endpoint is {status}"
    if status == "InService":
        if config == expected_config:
            return "succeeded", f"endpoint InService on {config}"
        return (
            "rolled_back",
            f"endpoint InService on {config}, not {expected_config}: the update was rolled back. {reason}".strip(),
        )
    return (
        "failed",
        f"endpoint is {status or 'in an unknown state'}: {reason or 'no failure reason reported'}",
    )
