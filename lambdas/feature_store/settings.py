"""Environment settings of the feature store functions, parsed once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.common.errors import InputError, Problem

ENV_TABLE = "FEATURE_STORE_TABLE"
ENV_BUCKET = "FEATURE_STORE_OFFLINE_BUCKET"
ENV_PREFIX = "FEATURE_STORE_OFFLINE_PREFIX"
ENV_IDEMPOTENCY_TABLE = "FEATURE_STORE_IDEMPOTENCY_TABLE"
ENV_ATHENA_WORKGROUP = "FEATURE_STORE_ATHENA_WORKGROUP"
ENV_ATHENA_OUTPUT = "FEATURE_STORE_ATHENA_OUTPUT"
ENV_GLUE_DATABASE = "FEATURE_STORE_GLUE_DATABASE"


class IngestSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1)
    offline_bucket: str = Field(min_length=1)
    offline_prefix: str = "offline"
    idempotency_table: str = Field(min_length=1)
    glue_database: str = Field(min_length=1)


class AthenaSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    workgroup: str = Field(min_length=1)
    output_location: str = Field(pattern=r"^s3://")
    glue_database: str = Field(min_length=1)


def _required(env: Mapping[str, str], names: list[str]) -> None:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise InputError(
            [
                Problem(n, "environment variable is not set; the FeatureStore construct sets it")
                for n in missing
            ],
            source="feature store function settings",
        )


def ingest_settings(env: Mapping[str, str] | None = None) -> IngestSettings:
    env = os.environ if env is None else env
    _required(env, [ENV_TABLE, ENV_BUCKET, ENV_IDEMPOTENCY_TABLE, ENV_GLUE_DATABASE])
    return IngestSettings(
        table_name=env[ENV_TABLE],
        offline_bucket=env[ENV_BUCKET],
        offline_prefix=env.get(ENV_PREFIX, "offline"),
        idempotency_table=env[ENV_IDEMPOTENCY_TABLE],
        glue_database=env[ENV_GLUE_DATABASE],
    )


def athena_settings(env: Mapping[str, str] | None = None) -> AthenaSettings:
    env = os.environ if env is None else env
    _required(env, [ENV_ATHENA_WORKGROUP, ENV_ATHENA_OUTPUT, ENV_GLUE_DATABASE])
    try:
        return AthenaSettings(
            workgroup=env[ENV_ATHENA_WORKGROUP],
            output_location=env[ENV_ATHENA_OUTPUT],
            glue_database=env[ENV_GLUE_DATABASE],
        )
    except ValidationError as exc:
        raise InputError(
            [Problem(ENV_ATHENA_OUTPUT, e["msg"]) for e in exc.errors()], source="athena settings"
        ) from None
