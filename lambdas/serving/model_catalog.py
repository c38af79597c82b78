"""Where the prediction function learns each model's endpoint, version and request schema.

One SSM parameter per model (``<MODEL_PARAMETER_PREFIX><model>``), written by the
``PredictionApi`` construct at deploy time, holds ``{"endpoint_name", "model_version",
"request_schema"}``. The function caches each entry for ``CATALOG_MAX_AGE_SECONDS``, so a
new model version reaches the cache key (and so invalidates old predictions) within that
time without a redeploy of the function.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SSMProvider
from pydantic import BaseModel, ConfigDict, Field

from lambdas.serving.settings import ServingSettings


class ModelEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    endpoint_name: str = Field(min_length=1, max_length=63)
    # '#' separates the parts of a cache key, so a version must not contain it.
    model_version: str = Field(min_length=1, max_length=128, pattern=r"^[^#]+$")
    request_schema: dict[str, Any]


class ModelCatalog:
    """Cached look-up of ``ModelEntry`` by model name."""

    def __init__(self, settings: ServingSettings, provider: SSMProvider) -> None:
        self._settings = settings
        self._provider = provider

    def knows(self, model: str) -> bool:
        return model in self._settings.model_names

    def entry(self, model: str) -> ModelEntry:
        raw = self._provider.get(
            self._settings.parameter_name(model),
            max_age=self._settings.catalog_max_age_seconds,
            transform="json",
        )
        return ModelEntry.model_validate(raw)
