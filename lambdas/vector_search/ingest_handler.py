"""SQS-fed embedding pipeline: one document per message, partial batch failures reported.

Environment: OPENSEARCH_ENDPOINT, INDEX_SPEC (JSON), EMBEDDING_PROVIDER (sagemaker|bedrock),
EMBEDDING_MODEL (endpoint name or Bedrock model id), optional CHUNK_MAX_TOKENS,
CHUNK_OVERLAP_TOKENS, EMBED_BATCH_SIZE, BULK_ATTEMPTS. The event source mapping must enable
ReportBatchItemFailures.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from lambdas.common.errors import InputError
from lambdas.vector_search.embedding import Embedder
from lambdas.vector_search.http_client import OpenSearchClient
from lambdas.vector_search.index_spec import problems_from
from lambdas.vector_search.ingest import ChunkingOptions, DocumentFailed, IngestMessage, ingest_document
from lambdas.vector_search.settings import (
    PipelineSettings,
    make_embedder,
    opensearch_settings,
    pipeline_settings,
)

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="MLPlatform/VectorSearch")
# Every record failing is still a partial response: SQS redelivers them, no invocation error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def settings() -> PipelineSettings:
    return pipeline_settings()


@cache
def opensearch_client() -> OpenSearchClient:
    return opensearch_settings().client()


@cache
def embedder() -> Embedder:
    config = settings()
    return make_embedder(
        config.provider,
        config.model,
        dimension=config.index_spec.dimension,
        batch_size=config.embed_batch_size,
    )


def parse_message(body: str) -> IngestMessage:
    try:
        return IngestMessage.model_validate_json(body)
    except ValidationError as exc:
        raise InputError(problems_from(exc, "body"), "message") from exc


def record_handler(record: SQSRecord) -> dict[str, Any]:
    config = settings()
    try:
        message = parse_message(record.body)
        report = ingest_document(
            message,
            config.index_spec,
            embedder(),
            opensearch_client(),
            chunking=ChunkingOptions(config.max_tokens, config.overlap_tokens),
            bulk_attempts=config.bulk_attempts,
        )
    except InputError as exc:
        logger.error("document refused", extra={"message_id": record.message_id, "problems": exc.lines()})
        metrics.add_metric("DocumentsRefused", MetricUnit.Count, 1)
        raise
    except DocumentFailed as exc:
        logger.error(str(exc), extra={"message_id": record.message_id, "permanent": exc.permanent})
        metrics.add_metric("DocumentsFailed", MetricUnit.Count, 1)
        raise
    except Exception:
        # Embedding or cluster errors that outlasted their retries: the message is redelivered.
        logger.exception("document failed", extra={"message_id": record.message_id})
        metrics.add_metric("DocumentsFailed", MetricUnit.Count, 1)
        raise
    metrics.add_metric("ChunksIndexed", MetricUnit.Count, report.chunks)
    logger.info("document indexed", extra={"doc_id": report.doc_id, "chunks": report.chunks})
    return {"doc_id": report.doc_id, "chunks": report.chunks}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
