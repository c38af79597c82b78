"""What every training Lambda shares: Powertools objects, settings from the environment,
and boto3 clients created once per container."""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

from lambdas.common.errors import InputError

METRICS_NAMESPACE = "MLPlatform/Training"

logger = Logger(service="training")
tracer = Tracer(service="training")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="training")


def setting(name: str) -> str:
    """A required environment variable; its absence is a deployment error worth naming."""
    value = os.environ.get(name)
    if not value:
        raise InputError.single(
            name, "environment variable is not set; the construct must pass it", "settings"
        )
    return value


@functools.cache
def client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests switch AWS mocks and regions between cases)."""
    client.cache_clear()
