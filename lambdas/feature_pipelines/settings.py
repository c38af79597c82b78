"""Environment of the stream consumer function, parsed once at cold start."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from lambdas.common.errors import InputError, Problem
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec

ENV_SPEC = "FEATURE_PIPELINE_SPEC"
ENV_STATE_TABLE = "WINDOW_STATE_TABLE"
ENV_FAILURE_QUEUE = "FAILURE_QUEUE_URL"
# The feature store's own variables (lambdas.feature_store.settings) for put_records.
ENV_FEATURE_TABLE = "FEATURE_STORE_TABLE"
ENV_OFFLINE_BUCKET = "FEATURE_STORE_OFFLINE_BUCKET"
ENV_OFFLINE_PREFIX = "FEATURE_STORE_OFFLINE_PREFIX"
ENV_GLUE_DATABASE = "FEATURE_STORE_GLUE_DATABASE"

_REQUIRED = (
    ENV_SPEC,
    ENV_STATE_TABLE,
    ENV_FAILURE_QUEUE,
    ENV_FEATURE_TABLE,
    ENV_OFFLINE_BUCKET,
    ENV_GLUE_DATABASE,
)


class ConsumerSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    spec: StreamingFeatureSpec
    state_table: str
    failure_queue_url: str
    feature_table: str
    offline_bucket: str
    offline_prefix: str = "offline"
    glue_database: str


def consumer_settings(env: Mapping[str, str] | None = None) -> ConsumerSettings:
    """Read the settings; a missing variable or bad spec is an `InputError` naming it."""
    env = os.environ if env is None else env
    source = "stream consumer settings"
    missing = [name for name in _REQUIRED if not env.get(name)]
    if missing:
        raise InputError(
            [
                Problem(n, "environment variable is not set; StreamingFeaturePipeline sets it")
                for n in missing
            ],
            source,
        )
    try:
        raw_spec = json.loads(env[ENV_SPEC])
    except ValueError as exc:
        raise InputError.single(ENV_SPEC, f"is not JSON: {exc}", source) from None
    return ConsumerSettings(
        spec=StreamingFeatureSpec.parse(raw_spec, source=f"{source}: {ENV_SPEC}"),
        state_table=env[ENV_STATE_TABLE],
        failure_queue_url=env[ENV_FAILURE_QUEUE],
        feature_table=env[ENV_FEATURE_TABLE],
        offline_bucket=env[ENV_OFFLINE_BUCKET],
        offline_prefix=env.get(ENV_OFFLINE_PREFIX, "offline"),
        glue_database=env[ENV_GLUE_DATABASE],
    )
