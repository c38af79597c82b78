"""Managed spot savings and the cost of a finished training job."""

from __future__ import annotations

from lambdas.common.errors import InputError


def spot_savings(billable_seconds: float | None, training_seconds: float | None) -> float | None:
    """`1 - BillableTimeInSeconds / TrainingTimeInSeconds`, SageMaker's own definition.

    None when the job has not run (no training time), so that a zero-length job is not
    reported as a 100 % saving.
    """
    if billable_seconds is None or training_seconds is None or training_seconds <= 0:
        return None
    if billable_seconds < 0:
        raise InputError.single("BillableTimeInSeconds", f"{billable_seconds} is negative")
    return 1.0 - billable_seconds / training_seconds


def billed_cost(
    billable_seconds: float | None, instance_count: int, hourly_price: float | None
) -> float | None:
    """Upper bound of the job's cost: billable instance-hours at the configured hourly price.

    Billable time is per instance, so it is multiplied by the instance count. The price is
    what the operator configured (usually on-demand), so the spot bill is at most this.
    """
    if billable_seconds is None or hourly_price is None:
        return None
    if hourly_price < 0:
        raise InputError.single("hourly_price", f"{hourly_price} is negative")
    return billable_seconds / 3600.0 * instance_count * hourly_price
