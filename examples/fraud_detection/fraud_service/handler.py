"""POST /transactions: decide one transaction (entry point ``fraud_service.handler.handler``).

200 with the decision; 400 listing every problem of a malformed transaction; 503 when the
decision could not be recorded in the audit log or the review queue (the client retries
with the same transaction id and gets the recorded decision, never a second one).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from fraud_service.api import bad_request, request_body, response
from fraud_service.audit import AuditLog
from fraud_service.decision import Thresholds
from fraud_service.decision_service import FraudDecisionService, ReviewQueue
from fraud_service.feature_groups import VELOCITY_SPEC
from fraud_service.feature_writer import FeatureStoreWriter, IngestionQueueWriter, VelocityWriter
from fraud_service.scoring import EndpointScorer, endpoint_client_config
from fraud_service.settings import DecisionSettings
from fraud_service.transaction import check_current, parse_transaction
from fraud_service.velocity import VelocityWindows
from lambdas.common.errors import InputError
from lambdas.feature_store.client import FeatureStoreClient

NAMESPACE = "FraudDetection"
logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=NAMESPACE)


def build_service(settings: DecisionSettings) -> FraudDecisionService:
    features = FeatureStoreClient.from_environment(deadline_seconds=settings.feature_deadline_ms / 1000)
    sqs = boto3.client("sqs")
    writer: VelocityWriter = (
        IngestionQueueWriter(sqs, settings.feature_ingestion_queue_url)
        if settings.feature_ingestion_queue_url
        else FeatureStoreWriter(features)
    )
    runtime = boto3.client(
        "sagemaker-runtime", config=endpoint_client_config(settings.endpoint_timeout_ms / 1000)
    )
    return FraudDecisionService(
        features=features,
        velocity=VelocityWindows(features.dynamodb, settings.velocity_state_table, VELOCITY_SPEC),
        velocity_writer=writer,
        scorer=EndpointScorer(runtime, settings.endpoint_name),
        audit=AuditLog(boto3.client("s3"), settings.audit_bucket),
        review_queue=ReviewQueue(sqs, settings.review_queue_url),
        thresholds=Thresholds(
            approve_below=settings.approve_below,
            block_at=settings.block_at,
            review_amount_at=settings.review_amount_at,
        ),
        feature_deadline_seconds=settings.feature_deadline_ms / 1000,
    )


@cache
def _service() -> FraudDecisionService:
    return build_service(DecisionSettings.from_env())


def process(event: dict[str, Any], service: FraudDecisionService, sink: Metrics = metrics) -> dict[str, Any]:
    try:
        txn = parse_transaction(request_body(event))
        check_current(
            txn,
            service.wall_clock_ms(),
            max_age_seconds=VELOCITY_SPEC.allowed_lateness_seconds,
            max_skew_seconds=VELOCITY_SPEC.max_future_skew_seconds,
        )
    except InputError as exc:
        logger.info("malformed transaction", extra={"problems": exc.lines()})
        sink.add_metric(name="MalformedTransactions", unit=MetricUnit.Count, value=1)
        return bad_request(exc)
    try:
        result = service.decide(txn)
    except (ClientError, BotoCoreError) as exc:
        logger.exception("decision not recorded", extra={"transaction_id": txn.transaction_id})
        sink.add_metric(name="DecisionsNotRecorded", unit=MetricUnit.Count, value=1)
        return response(
            503,
            {
                "message": f"the decision for {txn.transaction_id} could not be recorded "
                f"({type(exc).__name__}); retry with the same transaction_id",
            },
        )
    sink.add_metric(name=f"Decision_{result.outcome.value}", unit=MetricUnit.Count, value=1)
    if result.fallback:
        sink.add_metric(name="FallbackDecisions", unit=MetricUnit.Count, value=1)
    sink.add_metric(name="DecisionLatency", unit=MetricUnit.Milliseconds, value=result.timings_ms["total"])
    logger.info(
        "decided",
        extra={
            "transaction_id": txn.transaction_id,
            "decision": result.outcome.value,
            "fallback": result.fallback,
            "timings_ms": result.timings_ms,
        },
    )
    return response(200, result.to_response())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process(event, _service())
