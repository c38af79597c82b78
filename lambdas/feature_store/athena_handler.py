"""Builds a point-in-time training set on Athena for the retraining pipeline.

Start: ``{"entity_source": "\\"db\\".\\"labels\\"", "timestamp_column": "ts",
"requests": [{"group": "user_activity", "features": ["a", "b"]}],
"time_range": ["2026-01-01", "2026-01-31"], "output_uri": "s3://bucket/run/training-set/"}``
(``time_range`` and ``output_uri`` optional); poll: ``{"query_execution_id": "..."}``.

Without ``output_uri`` the result is Athena's CSV in the workgroup's result location; with
it, the query is wrapped in ``UNLOAD (...) TO '<output_uri>' WITH (format = 'PARQUET')``
so the training set lands as Parquet files under that prefix, which must be empty (Athena
refuses to UNLOAD into a prefix that holds objects: give each run its own).

Either way the function polls until the query ends or its time budget runs out and
returns ``{"query_execution_id", "state", "output_location", "reason"}``; a Step
Functions loop calls it again with the id while the state is QUEUED or RUNNING.
"""

from __future__ import annotations

import re
import time
from datetime import date
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.common.errors import InputError, Problem
from lambdas.feature_store.client import GlueRegistry
from lambdas.feature_store.point_in_time import FeatureRequest, athena_table, point_in_time_sql
from lambdas.feature_store.registry import RegistrySource
from lambdas.feature_store.settings import AthenaSettings, athena_settings

logger = Logger(service="feature-store-training-set")
tracer = Tracer(service="feature-store-training-set")

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
POLL_SECONDS = 2.0
# Leave room to return before Lambda's own timeout.
SAFETY_MARGIN_MS = 5_000
# A prefix ("folder") in a bucket; no quote or backslash can end the SQL string literal.
OUTPUT_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^'\\\s]*/$"
# The target of an UNLOAD this module issued: the statement ends with it.
_UNLOAD_TARGET = re.compile(r"\)\s*TO\s+'(s3://[^'\\]+)'\s+WITH\s*\(format = 'PARQUET'\)\s*$")


class RequestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: str
    features: list[str] | None = None
    entity_column: str | None = None
    prefix: bool = False


class StartEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity_source: str = Field(min_length=1)
    timestamp_column: str = Field(min_length=1)
    requests: list[RequestSpec] = Field(min_length=1)
    time_range: tuple[date, date] | None = None
    output_uri: str | None = Field(default=None, pattern=OUTPUT_URI_PATTERN)


class PollEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query_execution_id: str = Field(min_length=1)


def parse_event(event: Any) -> StartEvent | PollEvent:
    model: type[StartEvent] | type[PollEvent] = (
        PollEvent if isinstance(event, dict) and "query_execution_id" in event else StartEvent
    )
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        raise InputError(
            [Problem(".".join(str(p) for p in e["loc"]) or "event", e["msg"]) for e in exc.errors()],
            source="training set request",
        ) from None


def build_sql(event: StartEvent, registry: RegistrySource, database: str) -> str:
    requests = [
        FeatureRequest(
            registry.get(r.group),
            tuple(r.features) if r.features is not None else None,
            r.entity_column,
            r.prefix,
        )
        for r in event.requests
    ]
    return point_in_time_sql(
        entity_source=event.entity_source,
        timestamp_column=event.timestamp_column,
        requests=requests,
        table_sql=athena_table(database),
        time_range=event.time_range,
    )


def unload_sql(select: str, output_uri: str) -> str:
    """`select` written as Parquet under `output_uri` (checked against OUTPUT_URI_PATTERN)."""
    if not re.match(OUTPUT_URI_PATTERN, output_uri):
        raise InputError.single("output_uri", f"'{output_uri}' is not an s3://bucket/prefix/ location")
    return f"UNLOAD (\n{select}\n) TO '{output_uri}' WITH (format = 'PARQUET')"


def unload_target(query: str) -> str | None:
    """Where an UNLOAD statement built by `unload_sql` writes; None for any other query."""
    found = _UNLOAD_TARGET.search(query) if query.lstrip().upper().startswith("UNLOAD") else None
    return found.group(1) if found else None


def statement(event: StartEvent, registry: RegistrySource, database: str) -> str:
    select = build_sql(event, registry, database)
    return select if event.output_uri is None else unload_sql(select, event.output_uri)


def wait_for(athena: Any, execution_id: str, remaining_ms: Any, sleep: Any = time.sleep) -> dict[str, Any]:
    while True:
        execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        status = execution["Status"]
        state = status["State"]
        if state in TERMINAL_STATES or remaining_ms() < SAFETY_MARGIN_MS + POLL_SECONDS * 1000:
            # An UNLOAD's result location holds only Athena's manifest; the data is at its target.
            unloaded = unload_target(execution.get("Query", ""))
            return {
                "query_execution_id": execution_id,
                "state": state,
                "output_location": unloaded or execution.get("ResultConfiguration", {}).get("OutputLocation"),
                "reason": status.get("StateChangeReason"),
            }
        sleep(POLL_SECONDS)


@lru_cache(maxsize=1)
def _settings() -> AthenaSettings:
    return athena_settings()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = _settings()
    request = parse_event(event)
    athena = boto3.client("athena")
    if isinstance(request, StartEvent):
        registry = GlueRegistry(boto3.client("glue"), settings.glue_database)
        sql = statement(request, registry, settings.glue_database)
        execution_id = athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": settings.glue_database},
            WorkGroup=settings.workgroup,
            ResultConfiguration={"OutputLocation": settings.output_location},
        )["QueryExecutionId"]
        logger.info(
            "training set query started",
            extra={"query_execution_id": execution_id, "output_uri": request.output_uri},
        )
    else:
        execution_id = request.query_execution_id
    return wait_for(athena, execution_id, context.get_remaining_time_in_millis)
