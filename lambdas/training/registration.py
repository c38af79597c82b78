"""Model package registration: approval status and the package's metrics and lineage."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from lambdas.common.errors import InputError

ApprovalMode = Literal["automatic", "manual"]
APPROVAL_MODES: tuple[ApprovalMode, ...] = ("automatic", "manual")
#: CustomerMetadataProperties limits (CreateModelPackage API reference).
_KEY_MAX = 128
_VALUE_MAX = 256


def feature_schema_fingerprint(features: Mapping[str, str]) -> str:
    """SHA-256 of the sorted feature name/dtype pairs: equal schemas, equal fingerprints,
    whatever order the config lists them in."""
    canonical = json.dumps(sorted((str(k), str(v)) for k, v in features.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def approval_status(*, better: bool, mode: str) -> str:
    """A worse model is registered as Rejected (kept for the record, never deployable);
    a better one is Approved or waits for a person."""
    if mode not in APPROVAL_MODES:
        raise InputError.single("approval_mode", f"'{mode}' is not one of {list(APPROVAL_MODES)}")
    if not better:
        return "Rejected"
    return "Approved" if mode == "automatic" else "PendingManualApproval"


def _metadata(values: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        out[key[:_KEY_MAX]] = text[:_VALUE_MAX]
    return out


def model_package_request(
    *,
    group_name: str,
    image_uri: str,
    model_data_url: str,
    approval: str,
    training_job_name: str,
    training_data_uri: str,
    feature_fingerprint: str,
    evaluation: Mapping[str, Any],
    spot_savings: float | None,
    metrics_uri: str | None = None,
    content_types: tuple[str, ...] = ("application/json",),
) -> dict[str, Any]:
    """CreateModelPackage parameters. Metrics and lineage travel as customer metadata, which
    needs no report file in S3 and is what the next run reads back as the production metric."""
    description = str(evaluation.get("reason", ""))[:1000]
    request: dict[str, Any] = {
        "ModelPackageGroupName": group_name,
        "ModelPackageDescription": description,
        "ModelApprovalStatus": approval,
        "InferenceSpecification": {
            "Containers": [{"Image": image_uri, "ModelDataUrl": model_data_url}],
            "SupportedContentTypes": list(content_types),
            "SupportedResponseMIMETypes": list(content_types),
        },
        "CustomerMetadataProperties": _metadata(
            {
                "training_job": training_job_name,
                "training_data": training_data_uri,
                "feature_schema_fingerprint": feature_fingerprint,
                "metric_name": evaluation.get("metric_name"),
                "metric_value": evaluation.get("candidate"),
                "production_metric_value": evaluation.get("production"),
                "spot_savings": spot_savings,
            }
        ),
    }
    if metrics_uri:
        request["ModelMetrics"] = {
            "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}}
        }
    return request


def metrics_report(
    *, training_job_name: str, evaluation: Mapping[str, Any], spot_savings: float | None
) -> dict[str, Any]:
    """The model-quality statistics file the package's `ModelMetrics` points at."""
    return {
        "training_job": training_job_name,
        "metric": {
            "name": evaluation.get("metric_name"),
            "value": evaluation.get("candidate"),
            "production_value": evaluation.get("production"),
            "direction": evaluation.get("direction"),
            "margin": evaluation.get("margin"),
            "improvement": evaluation.get("improvement"),
        },
        "decision": evaluation.get("reason"),
        "spot_savings": spot_savings,
    }


def production_metric(metadata: Mapping[str, str] | None, metric_name: str) -> float | None:
    """The metric value an approved package was registered with, if it was for this metric."""
    if not metadata or metadata.get("metric_name") != metric_name or "metric_value" not in metadata:
        return None
    return float(metadata["metric_value"])
