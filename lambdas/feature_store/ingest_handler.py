"""SQS-fed ingestion: each message ``{"group": ..., "records": [...]}`` goes to put_records.

Partial batch failure: a message that cannot be processed at all (not JSON, unknown
group, DynamoDB/S3 failure) is reported failed and retried by SQS, then dead-lettered.
Records that fail validation are *not* retried (retrying cannot fix them): they are
logged with their reasons and counted in the RecordsRejected metric. Idempotency keyed
on the message content makes a redelivered message a no-op.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.common.errors import InputError, Problem
from lambdas.feature_store.client import FeatureStoreClient
from lambdas.feature_store.settings import ingest_settings

logger = Logger(service="feature-store-ingest")
tracer = Tracer(service="feature-store-ingest")

MAX_RECORDS_PER_MESSAGE = 500


class IngestMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(min_length=1)
    records: list[Any] = Field(min_length=1, max_length=MAX_RECORDS_PER_MESSAGE)


def parse_message(body: str) -> IngestMessage:
    try:
        return IngestMessage.model_validate_json(body)
    except ValidationError as exc:
        raise InputError(
            [Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()],
            source="ingest message",
        ) from None


def ingest(client: FeatureStoreClient, message: IngestMessage) -> dict[str, Any]:
    response = client.put_records(message.group, message.records)
    rejected = [
        {"index": r.index, "entity_id": r.entity_id, "problems": [str(p) for p in r.problems]}
        for r in response.rejected
    ]
    if rejected:
        logger.warning("records rejected", extra={"group": message.group, "rejected": rejected})
    return {
        "group": message.group,
        "outcomes": [r.outcome.value for r in response.results],
        "rejected": rejected,
        "offline_keys": response.offline_keys,
    }


@dataclass
class _Runtime:
    client: FeatureStoreClient
    config: IdempotencyConfig
    processor: BatchProcessor
    ingest_once: Any


@lru_cache(maxsize=1)
def runtime() -> _Runtime:
    settings = ingest_settings()
    client = FeatureStoreClient(
        table_name=settings.table_name,
        offline_bucket=settings.offline_bucket,
        offline_prefix=settings.offline_prefix,
        glue_database=settings.glue_database,
    )
    config = IdempotencyConfig(expires_after_seconds=24 * 3600)
    store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table)

    @idempotent_function(data_keyword_argument="message", persistence_store=store, config=config)
    def ingest_once(message: dict[str, Any]) -> dict[str, Any]:
        return ingest(client, IngestMessage.model_validate(message))

    return _Runtime(client, config, BatchProcessor(event_type=EventType.SQS), ingest_once)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    message = parse_message(record.body)
    result: dict[str, Any] = runtime().ingest_once(message=json.loads(message.model_dump_json()))
    return result


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    rt = runtime()
    rt.config.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=rt.processor, context=context
    )
