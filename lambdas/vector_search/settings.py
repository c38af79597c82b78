"""Environment settings of the vector search functions, parsed once at cold start."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Literal, TypeVar

import boto3
from botocore.credentials import Credentials
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from lambdas.common.errors import InputError, Problem
from lambdas.vector_search.embedding import BedrockEmbedder, Embedder, SageMakerEmbedder
from lambdas.vector_search.http_client import OpenSearchClient
from lambdas.vector_search.index_spec import IndexSpec, problems_from

M = TypeVar("M", bound=BaseModel)


def _read(model: type[BaseModel], env: Mapping[str, str], names: Mapping[str, str]) -> dict[str, str]:
    missing = [
        var for var, field in names.items() if var not in env and model.model_fields[field].is_required()
    ]
    if missing:
        raise InputError([Problem(var, "environment variable is not set") for var in missing], "settings")
    return {field: env[var] for var, field in names.items() if var in env}


def _validate(model: type[M], values: dict[str, str]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InputError(problems_from(exc, "settings"), "settings") from exc


class OpenSearchSettings(BaseModel):
    endpoint: str = Field(min_length=1)
    region: str = Field(min_length=1)

    def client(self) -> OpenSearchClient:
        session = boto3.session.Session()

        def credentials() -> Credentials:
            # Re-read every request so rotated Lambda role credentials are picked up.
            found = session.get_credentials()
            if found is None:
                raise RuntimeError("no AWS credentials available to sign OpenSearch requests")
            return found.get_frozen_credentials()  # type: ignore[return-value]

        return OpenSearchClient(self.endpoint, self.region, credentials)


_OPENSEARCH_ENV = {"OPENSEARCH_ENDPOINT": "endpoint", "AWS_REGION": "region"}


def opensearch_settings(env: Mapping[str, str] | None = None) -> OpenSearchSettings:
    values = _read(OpenSearchSettings, env if env is not None else os.environ, _OPENSEARCH_ENV)
    return _validate(OpenSearchSettings, values)


class PipelineSettings(BaseModel):
    index_spec: IndexSpec
    provider: Literal["sagemaker", "bedrock"]
    model: str = Field(min_length=1)
    max_tokens: int = Field(default=256, ge=8, le=8192)
    overlap_tokens: int = Field(default=32, ge=0)
    embed_batch_size: int = Field(default=16, ge=1, le=512)
    bulk_attempts: int = Field(default=4, ge=1, le=10)

    @field_validator("index_spec", mode="before")
    @classmethod
    def _spec(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value


_PIPELINE_ENV = {
    "INDEX_SPEC": "index_spec",
    "EMBEDDING_PROVIDER": "provider",
    "EMBEDDING_MODEL": "model",
    "CHUNK_MAX_TOKENS": "max_tokens",
    "CHUNK_OVERLAP_TOKENS": "overlap_tokens",
    "EMBED_BATCH_SIZE": "embed_batch_size",
    "BULK_ATTEMPTS": "bulk_attempts",
}


def pipeline_settings(env: Mapping[str, str] | None = None) -> PipelineSettings:
    values = _read(PipelineSettings, env if env is not None else os.environ, _PIPELINE_ENV)
    settings = _validate(PipelineSettings, values)
    if settings.overlap_tokens >= settings.max_tokens:
        raise InputError.single("CHUNK_OVERLAP_TOKENS", "must be below CHUNK_MAX_TOKENS", "settings")
    return settings


class SearchSettings(BaseModel):
    indices: list[IndexSpec] = Field(min_length=1)
    default_oversample: int = Field(default=4, ge=1, le=100)
    max_k: int = Field(default=100, ge=1, le=10_000)
    # Optional: lets callers send query text, embedded with the model that embedded the documents.
    embedding_provider: Literal["sagemaker", "bedrock"] | None = None
    embedding_model: str | None = None

    @model_validator(mode="after")
    def _embedding_pair(self) -> SearchSettings:
        if (self.embedding_provider is None) != (self.embedding_model is None):
            raise ValueError("EMBEDDING_PROVIDER and EMBEDDING_MODEL are set together or not at all")
        return self

    @field_validator("indices", mode="before")
    @classmethod
    def _specs(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @property
    def by_name(self) -> dict[str, IndexSpec]:
        return {spec.name: spec for spec in self.indices}


_SEARCH_ENV = {
    "INDEX_SPECS": "indices",
    "DEFAULT_OVERSAMPLE": "default_oversample",
    "MAX_K": "max_k",
    "EMBEDDING_PROVIDER": "embedding_provider",
    "EMBEDDING_MODEL": "embedding_model",
}


def search_settings(env: Mapping[str, str] | None = None) -> SearchSettings:
    values = _read(SearchSettings, env if env is not None else os.environ, _SEARCH_ENV)
    return _validate(SearchSettings, values)


def make_embedder(provider: str, model: str, *, dimension: int, batch_size: int = 16) -> Embedder:
    """The configured embedding client; Bedrock Titan v2 is asked for the index's dimension."""
    if provider == "sagemaker":
        return SageMakerEmbedder(boto3.client("sagemaker-runtime"), model, batch_size)
    return BedrockEmbedder(boto3.client("bedrock-runtime"), model, dimensions=dimension)
