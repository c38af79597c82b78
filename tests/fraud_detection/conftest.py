"""Fixtures for the fraud detection example: its package on the path, a trained artifact,
and moto stand-ins for the feature store, window state, audit bucket and queues."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "fraud_detection"
# Appended, not prepended: the example's app.py must not shadow the repository's app.py for
# other test folders in the same session (fraud_service is the only name it adds).
if str(EXAMPLE_DIR) not in sys.path:
    sys.path.append(str(EXAMPLE_DIR))

REGION = "us-east-1"


@dataclass(frozen=True)
class BuiltArtifact:
    path: Path
    model_dir: Path
    model_version: str
    heldout_auc: float


@pytest.fixture(scope="session")
def built_artifact(tmp_path_factory: pytest.TempPathFactory) -> BuiltArtifact:
    from fraud_service.train import extract, train_and_package

    out = tmp_path_factory.mktemp("artifact")
    report = train_and_package(out, n=8000, seed=11, max_iter=60)
    model_dir = extract(report.artifact, out / "model")
    return BuiltArtifact(report.artifact, model_dir, report.model_version, report.heldout_auc)


@dataclass
class AwsWorld:
    dynamodb: Any
    s3: Any
    sqs: Any
    online_table: str = "fraud-online"
    state_table: str = "fraud-velocity-state"
    offline_bucket: str = "fraud-offline"
    audit_bucket: str = "fraud-audit"
    review_queue_url: str = ""
    ingestion_queue_url: str = ""


@pytest.fixture(scope="session")
def boto_clients() -> dict[str, Any]:
    """Built once: a client costs 0.1-0.4 s to build, and moto intercepts the requests of
    clients created before ``mock_aws`` starts, provided moto was imported before the client
    was built (the import installs its botocore hook)."""
    import boto3
    import moto  # noqa: F401

    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    return {name: boto3.client(name, region_name=REGION) for name in ("dynamodb", "s3", "sqs")}


@pytest.fixture
def aws(boto_clients: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsWorld]:
    from moto import mock_aws

    for name, value in {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        world = AwsWorld(dynamodb=boto_clients["dynamodb"], s3=boto_clients["s3"], sqs=boto_clients["sqs"])
        for table in (world.online_table, world.state_table):
            world.dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        world.s3.create_bucket(Bucket=world.offline_bucket)
        world.s3.create_bucket(Bucket=world.audit_bucket, ObjectLockEnabledForBucket=True)
        world.s3.put_object_lock_configuration(
            Bucket=world.audit_bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
            },
        )
        world.review_queue_url = world.sqs.create_queue(QueueName="fraud-review")["QueueUrl"]
        world.ingestion_queue_url = world.sqs.create_queue(QueueName="feature-ingest")["QueueUrl"]
        yield world


def example_app_module() -> Any:
    """The example's app.py, loaded under its own name: the repository root has an app.py too."""
    import importlib.util

    name = "fraud_detection_example_app"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE_DIR / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
