"""The fraud app's own settings (cdk.json context key ``fraud``), validated with pydantic.

A product team's app: it does not read the platform's config file.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fraud_service.decision import Thresholds

# The SageMaker scikit-learn serving image; the artifact must be trained with its
# scikit-learn minor version (the inference script checks).
DEFAULT_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


class FraudAppSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stack_name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$")] = "FraudDetection"
    account: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = "us-east-1"
    endpoint_name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")] = "fraud-detector"
    model_image: str = DEFAULT_IMAGE
    model_artifact: Annotated[str, Field(pattern=r"^s3://[a-z0-9][a-z0-9.\-]+/.+\.tar\.gz$")]
    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] = "ml.c5.large"
    min_instances: Annotated[int, Field(ge=1)] = 2
    max_instances: Annotated[int, Field(ge=1)] = 6
    latency_slo_ms: Annotated[float, Field(gt=0)] = 30.0
    endpoint_timeout_ms: Annotated[int, Field(ge=10, le=60_000)] = 200
    feature_deadline_ms: Annotated[int, Field(ge=10, le=10_000)] = 100
    thresholds: Thresholds = Field(default_factory=Thresholds)
    audit_retention_days: Annotated[int, Field(ge=1, le=36_500)] = 2555
    data_capture_percent: Annotated[int, Field(ge=1, le=100)] = 100
    api_rate_limit: Annotated[float, Field(gt=0)] = 500
    api_burst_limit: Annotated[int, Field(gt=0)] = 1000

    @classmethod
    def parse(cls, data: Any) -> FraudAppSettings:
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            raise ValueError(
                "invalid fraud app settings (cdk.json context 'fraud'):\n  " + "\n  ".join(lines)
            ) from None
