"""Which training failures are worth another attempt from the checkpoints.

Spot capacity that never arrived within the wait budget, or an interruption the job
could not absorb, is transient: a new job with the same checkpoint location resumes where
the last one stopped. Anything else (bad image, bad data, algorithm error) would fail
again, so it is not retried.
"""

from __future__ import annotations

from dataclasses import dataclass

_TRANSIENT_MARKERS = (
    "capacityerror",
    "insufficient capacity",
    "insufficientinstancecapacity",
    "insufficient instance capacity",
    "spot interruption",
    "spot instance",
    "maxwaittimeinseconds",
    "unable to provision requested ml compute capacity",
)

RETRYABLE_ERROR = "SpotCapacityError"
FATAL_ERROR = "TrainingJobFailedError"


@dataclass(frozen=True)
class TrainingFailure:
    retryable: bool
    error: str
    cause: str


def classify_failure(status: str, failure_reason: str | None) -> TrainingFailure:
    reason = failure_reason or "no failure reason reported"
    lowered = reason.lower()
    retryable = any(marker in lowered for marker in _TRANSIENT_MARKERS)
    return TrainingFailure(
        retryable=retryable,
        error=RETRYABLE_ERROR if retryable else FATAL_ERROR,
        cause=f"training job {status}: {reason}",
    )
