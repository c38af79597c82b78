"""Which endpoint errors are worth retrying, and how long to wait between attempts.

Only throttling is retried: a model error or a validation error will fail the same way
again, and a timeout already spent the caller's latency budget.
"""

from __future__ import annotations

import random

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
    }
)


def is_throttling(error_code: str, http_status: int | None) -> bool:
    return error_code in THROTTLING_CODES or http_status == 429


def backoff_delays(
    max_attempts: int, base_seconds: float, cap_seconds: float, rng: random.Random | None = None
) -> list[float]:
    """Sleep before each retry (``max_attempts - 1`` values): capped exponential, full jitter.

    Full jitter (a uniform draw below the exponential bound) spreads retries from many
    concurrent functions so they do not hit the endpoint in lockstep.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if base_seconds < 0 or cap_seconds < 0:
        raise ValueError("base_seconds and cap_seconds must not be negative")
    draw = (rng or random.Random()).uniform
    return [draw(0.0, min(cap_seconds, base_seconds * 2**retry)) for retry in range(max_attempts - 1)]
