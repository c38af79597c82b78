"""Configuration of the scheduled runtime cost function, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.common.errors import InputError, Problem
from lambdas.cost.cloudwatch_reader import split_csv

ENVIRONMENT = {
    "report_bucket": "REPORT_BUCKET",
    "report_prefix": "REPORT_PREFIX",
    "window_hours": "WINDOW_HOURS",
    "endpoint_name_prefix": "ENDPOINT_NAME_PREFIX",
    "default_latency_slo_ms": "DEFAULT_LATENCY_SLO_MS",
    "latency_slo_tag": "LATENCY_SLO_TAG",
    "buckets": "BUCKETS_TO_ANALYSE",
    "assumed_cold_fraction": "ASSUMED_COLD_FRACTION",
    "region": "AWS_REGION",
}


class RuntimeCostSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    report_bucket: str = Field(min_length=3)
    report_prefix: str = "cost-reports"
    window_hours: float = Field(default=168.0, gt=0, le=24 * 62)
    endpoint_name_prefix: str = ""
    default_latency_slo_ms: float | None = Field(default=None, gt=0)
    latency_slo_tag: str = "mlplatform:latency-slo-ms"
    buckets: list[str] = Field(default_factory=list)
    assumed_cold_fraction: float = Field(default=0.5, ge=0, le=1)
    region: str = "us-east-1"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RuntimeCostSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field, variable in ENVIRONMENT.items():
            raw = env.get(variable)
            if raw is None or raw == "":
                continue
            values[field] = list(split_csv(raw)) if field == "buckets" else raw
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = [
                Problem(
                    ENVIRONMENT.get(str(e["loc"][0]), str(e["loc"][0])) if e["loc"] else "", str(e["msg"])
                )
                for e in exc.errors()
            ]
            raise InputError(problems, "runtime cost settings") from exc
