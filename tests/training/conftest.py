"""Fixtures for the training tests: AWS mocks, Powertools settings and a fake Lambda context."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto import mock_aws

from lambdas.training.runtime import reset_clients

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@dataclass
class FakeContext:
    function_name: str = "training-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:training-test"
    aws_request_id: str = "req-1"


@pytest.fixture(autouse=True)
def _aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "MLPlatform/Training")
    reset_clients()


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        reset_clients()
        yield
    reset_clients()
