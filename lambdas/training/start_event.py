"""What started a retraining run, and whether this pipeline should act on it.

Three shapes reach the state machine: the drift EventBridge event, the schedule rule's
fixed input, and a hand-written `{"model": ...}`. Anything naming another model (or no
model) is refused with a reason that ends up in the execution's output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

DRIFT_SOURCE = "mlplatform.drift"
DRIFT_DETAIL_TYPE = "Model Drift Detected"

Trigger = Literal["drift", "schedule", "manual"]


@dataclass(frozen=True)
class StartDecision:
    accepted: bool
    trigger: Trigger | None
    model: str | None
    reason: str


def decide_start(event: Mapping[str, Any] | Any, pipeline_model: str) -> StartDecision:
    if not isinstance(event, Mapping):
        return StartDecision(
            False, None, None, f"start input must be a JSON object, got {type(event).__name__}"
        )
    trigger: Trigger
    if event.get("source") == DRIFT_SOURCE:
        if event.get("detail-type") != DRIFT_DETAIL_TYPE:
            return StartDecision(
                False, None, None, f"detail-type '{event.get('detail-type')}' is not '{DRIFT_DETAIL_TYPE}'"
            )
        detail = event.get("detail")
        model = detail.get("model") if isinstance(detail, Mapping) else None
        field_name = "detail.model"
        trigger = "drift"
    else:
        model = event.get("model")
        field_name = "model"
        trigger = "schedule" if event.get("trigger") == "schedule" else "manual"
    if not isinstance(model, str) or not model:
        return StartDecision(False, None, None, f"{field_name} is missing: name the model to retrain")
    if model != pipeline_model:
        return StartDecision(
            False,
            trigger,
            model,
            f"{field_name} '{model}' is unknown to this pipeline, which retrains '{pipeline_model}'",
        )
    return StartDecision(True, trigger, model, f"{trigger} start accepted")
