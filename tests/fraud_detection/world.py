"""Building the decision service over the moto world, and seeding feature-store profiles."""

from __future__ import annotations

from typing import Any

from fraud_service.audit import AuditLog
from fraud_service.decision import Thresholds
from fraud_service.decision_service import FraudDecisionService, ReviewQueue
from fraud_service.feature_groups import CARD_PROFILE, FEATURE_GROUPS, MERCHANT_PROFILE, VELOCITY_SPEC
from fraud_service.feature_writer import FeatureStoreWriter, IngestionQueueWriter
from fraud_service.scoring import Scorer
from fraud_service.velocity import VelocityWindows

from lambdas.feature_store.client import FeatureStoreClient, NoMetrics
from lambdas.feature_store.registry import Registry


def feature_client(aws: Any, **options: Any) -> FeatureStoreClient:
    settings: dict[str, Any] = {
        "table_name": aws.online_table,
        "registry": Registry(FEATURE_GROUPS),
        "offline_bucket": aws.offline_bucket,
        "dynamodb": aws.dynamodb,
        "s3": aws.s3,
        "metrics": NoMetrics(),
    }
    return FeatureStoreClient(**{**settings, **options})


def seed_profiles(client: FeatureStoreClient, *, event_time: float) -> None:
    client.put_records(
        CARD_PROFILE.name,
        [
            {
                "card_id": "card-ok",
                "event_time": event_time,
                "avg_amount_90d": 50.0,
                "std_amount_90d": 20.0,
                "card_age_days": 900,
                "home_country": "US",
            },
            {
                "card_id": "card-new",
                "event_time": event_time,
                "avg_amount_90d": 40.0,
                "std_amount_90d": 15.0,
                "card_age_days": 3,
                "home_country": "US",
            },
        ],
    )
    client.put_records(
        MERCHANT_PROFILE.name,
        [
            {
                "merchant_id": "m-grocer",
                "event_time": event_time,
                "risk_score": 0.02,
                "chargeback_rate_90d": 0.001,
            },
            {
                "merchant_id": "m-shady",
                "event_time": event_time,
                "risk_score": 0.85,
                "chargeback_rate_90d": 0.12,
            },
        ]
        + [
            {
                "merchant_id": f"m-{i}",
                "event_time": event_time,
                "risk_score": 0.5,
                "chargeback_rate_90d": 0.05,
            }
            for i in range(10)
        ],
    )


def service(
    aws: Any,
    scorer: Scorer,
    *,
    client: FeatureStoreClient | None = None,
    via_queue: bool = False,
    thresholds: Thresholds | None = None,
) -> FraudDecisionService:
    client = client or feature_client(aws)
    writer = (
        IngestionQueueWriter(aws.sqs, aws.ingestion_queue_url) if via_queue else FeatureStoreWriter(client)
    )
    return FraudDecisionService(
        features=client,
        velocity=VelocityWindows(aws.dynamodb, aws.state_table, VELOCITY_SPEC),
        velocity_writer=writer,
        scorer=scorer,
        audit=AuditLog(aws.s3, aws.audit_bucket),
        review_queue=ReviewQueue(aws.sqs, aws.review_queue_url),
        thresholds=thresholds or Thresholds(),
    )
