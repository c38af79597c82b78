"""Lambda entry point of the Kinesis consumer: ``lambdas.feature_pipelines.stream_handler.handler``.

The batch is computed as a whole (events grouped per entity, one state read and write
each); Powertools' BatchProcessor then turns the records that must be retried into the
partial-failure response, which the event source mapping needs ReportBatchItemFailures for.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.feature_pipelines.dead_letters import DeadLetterQueue
from lambdas.feature_pipelines.settings import ConsumerSettings, consumer_settings
from lambdas.feature_pipelines.state_store import WindowStateStore
from lambdas.feature_pipelines.stream_consumer import BatchReport, KinesisRecord, StreamConsumer
from lambdas.feature_pipelines.stream_records import check_group
from lambdas.feature_store.client import FeatureStoreClient, GlueRegistry

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="MLPlatform/FeaturePipelines")
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


class RetryRecord(Exception):
    """Raised for a record the batch could not finish; Lambda redelivers from it."""


def build_consumer(settings: ConsumerSettings, dynamodb: Any, sqs: Any, s3: Any, glue: Any) -> StreamConsumer:
    features = FeatureStoreClient(
        table_name=settings.feature_table,
        offline_bucket=settings.offline_bucket,
        offline_prefix=settings.offline_prefix,
        registry=GlueRegistry(glue, settings.glue_database),
        dynamodb=dynamodb,
        s3=s3,
    )
    group = features.registry.get(settings.spec.feature_group)
    check_group(settings.spec, group)
    return StreamConsumer(
        spec=settings.spec,
        group=group,
        states=WindowStateStore(dynamodb, settings.state_table, settings.spec),
        features=features,
        dead_letters=DeadLetterQueue(sqs, settings.failure_queue_url),
    )


@cache
def _consumer() -> StreamConsumer:
    return build_consumer(
        consumer_settings(),
        boto3.client("dynamodb"),
        boto3.client("sqs"),
        boto3.client("s3"),
        boto3.client("glue"),
    )


def _emit(report: BatchReport) -> None:
    for outcome, count in report.outcomes.items():
        metrics.add_metric(name=f"Events_{outcome}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="RecordsMalformed", unit=MetricUnit.Count, value=report.malformed)
    metrics.add_metric(name="StateConflicts", unit=MetricUnit.Count, value=report.state_conflicts)
    metrics.add_metric(
        name="DistinctCountLowerBounds", unit=MetricUnit.Count, value=report.lower_bound_features
    )
    metrics.add_metric(name="RecordsRetried", unit=MetricUnit.Count, value=len(report.failed))
    for outcome, count in report.feature_outcomes.items():
        metrics.add_metric(name=f"FeatureRecords_{outcome}", unit=MetricUnit.Count, value=count)
    if report.feature_rejections:
        logger.error(
            "feature store rejected computed features", extra={"problems": report.feature_rejections[:20]}
        )
    if report.state_errors:
        logger.warning(
            "window state could not be saved; records will be retried",
            extra={"errors": report.state_errors[:20]},
        )
    if report.feature_write_error:
        logger.warning(
            "feature write failed; records will be retried", extra={"error": report.feature_write_error}
        )


def consume_event(event: dict[str, Any], context: LambdaContext, consumer: StreamConsumer) -> dict[str, Any]:
    records = [KinesisRecord.from_event(r) for r in event.get("Records", [])]
    report = consumer.consume(records)
    _emit(report)

    def settle(record: KinesisStreamRecord) -> None:
        if record.kinesis.sequence_number in report.failed:
            raise RetryRecord(record.kinesis.sequence_number)

    return dict(
        process_partial_response(event=event, record_handler=settle, processor=processor, context=context)
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consume_event(event, context, _consumer())
