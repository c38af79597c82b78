"""Prediction function configuration, read once from the environment at cold start."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdas.common.errors import InputError, Problem

#: Environment variable for each setting; the construct sets these.
ENV_VARS: dict[str, str] = {
    "cache_table_name": "CACHE_TABLE_NAME",
    "model_names": "MODEL_NAMES",
    "model_parameter_prefix": "MODEL_PARAMETER_PREFIX",
    "cache_ttl_seconds": "CACHE_TTL_SECONDS",
    "catalog_max_age_seconds": "CATALOG_MAX_AGE_SECONDS",
    "connect_timeout_seconds": "ENDPOINT_CONNECT_TIMEOUT_SECONDS",
    "read_timeout_seconds": "ENDPOINT_READ_TIMEOUT_SECONDS",
    "throttle_max_attempts": "THROTTLE_MAX_ATTEMPTS",
    "throttle_base_delay_seconds": "THROTTLE_BASE_DELAY_SECONDS",
    "throttle_max_delay_seconds": "THROTTLE_MAX_DELAY_SECONDS",
}


class ServingSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    cache_table_name: str = Field(min_length=3)
    model_names: frozenset[str] = Field(min_length=1)
    model_parameter_prefix: str = Field(pattern=r"^/.*/$")
    cache_ttl_seconds: int = Field(default=3600, gt=0)
    catalog_max_age_seconds: int = Field(default=60, ge=0)
    connect_timeout_seconds: float = Field(default=1.0, gt=0)
    read_timeout_seconds: float = Field(default=5.0, gt=0)
    throttle_max_attempts: int = Field(default=3, ge=1, le=10)
    throttle_base_delay_seconds: float = Field(default=0.05, ge=0)
    throttle_max_delay_seconds: float = Field(default=0.5, ge=0)

    @field_validator("model_names", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(n.strip() for n in value.split(",") if n.strip())
        return value

    def parameter_name(self, model: str) -> str:
        return f"{self.model_parameter_prefix}{model}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServingSettings:
        raw = {field: environ[var] for field, var in ENV_VARS.items() if var in environ}
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                reason = "is not set" if error["type"] == "missing" else error["msg"]
                problems.append(Problem(ENV_VARS.get(field, field), reason))
            raise InputError(problems, source="prediction function environment") from None
