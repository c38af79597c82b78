import random

import pytest

from lambdas.serving.throttle_retry import backoff_delays, is_throttling


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, True),
        ("TooManyRequestsException", None, True),
        ("Whatever", 429, True),
        ("ModelError", 424, False),
        ("ValidationError", 400, False),
        ("ServiceUnavailable", 503, False),
    ],
)
def test_only_throttling_is_retryable(code, status, expected):
    assert is_throttling(code, status) is expected


def test_delays_are_one_fewer_than_attempts_and_within_capped_exponential_bounds():
    delays = backoff_delays(6, base_seconds=0.05, cap_seconds=0.3, rng=random.Random(1))
    assert len(delays) == 5
    for retry, delay in enumerate(delays):
        assert 0.0 <= delay <= min(0.3, 0.05 * 2**retry)


def test_single_attempt_never_sleeps_and_zero_base_never_waits():
    assert backoff_delays(1, 1.0, 1.0) == []
    assert backoff_delays(4, 0.0, 1.0) == [0.0, 0.0, 0.0]


def test_invalid_attempts_are_refused():
    with pytest.raises(ValueError, match="max_attempts"):
        backoff_delays(0, 0.1, 1.0)
