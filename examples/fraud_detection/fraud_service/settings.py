"""Runtime settings of the fraud functions, parsed once per cold start from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdas.common.errors import InputError, Problem

_Model = TypeVar("_Model", bound=BaseModel)


def _from_env(model: type[_Model], environ: Mapping[str, str] | None) -> _Model:
    env = os.environ if environ is None else environ
    raw = {name: env[name.upper()] for name in model.model_fields if name.upper() in env}
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [
            Problem(
                ".".join(str(p) for p in err["loc"]).upper(),
                "environment variable is not set" if err["type"] == "missing" else str(err["msg"]),
            )
            for err in exc.errors()
        ]
        raise InputError(problems, source="environment") from None


class DecisionSettings(BaseModel):
    """Environment of the decision function (the stack sets every variable)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    velocity_state_table: Annotated[str, Field(min_length=3)]
    endpoint_name: Annotated[str, Field(min_length=1)]
    audit_bucket: Annotated[str, Field(min_length=3)]
    review_queue_url: Annotated[str, Field(pattern=r"^https://")]
    # Empty: write velocity features with put_records in the request instead.
    feature_ingestion_queue_url: str = ""
    endpoint_timeout_ms: Annotated[int, Field(ge=10, le=60_000)] = 200
    feature_deadline_ms: Annotated[int, Field(ge=10, le=10_000)] = 100
    approve_below: Annotated[float, Field(ge=0, le=1)] = 0.3
    block_at: Annotated[float, Field(ge=0, le=1)] = 0.9
    # "off" switches the large-amount review rule off.
    review_amount_at: Annotated[float, Field(gt=0)] | None = 10_000.0

    @field_validator("review_amount_at", mode="before")
    @classmethod
    def _off_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() == "off" else value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DecisionSettings:
        return _from_env(cls, environ)


class LabelSettings(BaseModel):
    """Environment of the label-ingest function."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels_uri: Annotated[str, Field(pattern=r"^s3://[^/]+/.*")]
    audit_bucket: Annotated[str, Field(min_length=3)]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LabelSettings:
        return _from_env(cls, environ)
