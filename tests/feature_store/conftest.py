from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.feature_store.client import FeatureStoreClient, NoMetrics
from lambdas.feature_store.registry import Dtype, Feature, FeatureGroup, Registry

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
TABLE = "features-online"
BUCKET = "features-offline"


def user_group(**overrides: Any) -> FeatureGroup:
    spec: dict[str, Any] = {
        "name": "user_activity",
        "entity_key": "user_id",
        "owner_team": "risk",
        "features": [
            Feature(name="txn_count_1h", dtype=Dtype.INT64, max_age_seconds=3600),
            Feature(name="avg_amount_1d", dtype=Dtype.FLOAT64, max_age_seconds=86400),
            Feature(name="country", dtype=Dtype.STRING),
            Feature(name="is_verified", dtype=Dtype.BOOL, allow_null=False),
            Feature(name="score", dtype=Dtype.FLOAT64, allow_nan=True, max_age_seconds=600),
        ],
    }
    spec.update(overrides)
    return FeatureGroup(**spec)


def make_record(user_id: str, event_time: Any, **values: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "user_id": user_id,
        "event_time": event_time,
        "txn_count_1h": 3,
        "avg_amount_1d": 12.5,
        "country": "NL",
        "is_verified": True,
        "score": 0.25,
    }
    record.update(values)
    return record


@pytest.fixture(scope="session")
def clients() -> dict[str, Any]:
    """boto3 clients built once: building one costs 0.1-0.4 s, and moto's hook intercepts
    requests of clients created before ``mock_aws`` starts."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    return {name: boto3.client(name, region_name="eu-west-1") for name in ("dynamodb", "s3", "glue")}


@pytest.fixture
def aws(clients: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Clients the code under test builds itself (Powertools idempotency, from_environment)
    # use the default region: pin it to the region the fixtures create resources in, since
    # other test folders may have set another one first.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with mock_aws():
        yield


def create_table(dynamodb: Any, name: str = TABLE) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def dynamodb(aws: None, clients: dict[str, Any]) -> Any:
    client = clients["dynamodb"]
    create_table(client)
    return client


@pytest.fixture
def s3(aws: None, clients: dict[str, Any]) -> Any:
    client = clients["s3"]
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return client


GLUE_DATABASE = "feature_store"


@pytest.fixture
def glue(aws: None, clients: dict[str, Any]) -> Any:
    client = clients["glue"]
    client.create_database(DatabaseInput={"Name": GLUE_DATABASE})
    return client


def register(glue: Any, group: FeatureGroup) -> None:
    from lambdas.feature_store.offline_layout import glue_table_input

    glue.create_table(DatabaseName=GLUE_DATABASE, TableInput=glue_table_input(group, BUCKET, "offline"))


class FakeClock:
    """Monotonic clock that only moves when the client sleeps: no real waiting in tests."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(
    dynamodb: Any, s3: Any, clock: FakeClock, *groups: FeatureGroup, **kw: Any
) -> FeatureStoreClient:
    import random

    options: dict[str, Any] = {
        "table_name": TABLE,
        "registry": Registry(list(groups) or [user_group()]),
        "offline_bucket": BUCKET,
        "dynamodb": dynamodb,
        "s3": s3,
        "metrics": NoMetrics(),
        "monotonic": clock.monotonic,
        "sleep": clock.sleep,
        "wall_clock_ms": lambda: NOW_MS,
        "rng": random.Random(7),
    }
    options.update(kw)
    return FeatureStoreClient(**options)


@pytest.fixture
def client(dynamodb: Any, s3: Any, clock: FakeClock) -> FeatureStoreClient:
    return make_client(dynamodb, s3, clock)
