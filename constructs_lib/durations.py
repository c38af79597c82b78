"""`cdk.Duration` values and their lengths, with one jsii round trip per distinct value.

Every `cdk.Duration.minutes(1)` and every `duration.to_seconds()` is a round trip to jsii's
Node; a 50-model share of a synth made about 2,700 of them. A Duration is an immutable value,
so one object per length serves every construct, and the length of a Duration made here is
known in Python. A Duration made elsewhere (a product team's own) is converted once.
"""

from __future__ import annotations

import functools
import weakref

import aws_cdk as cdk

_SECONDS: weakref.WeakKeyDictionary[cdk.Duration, float] = weakref.WeakKeyDictionary()


@functools.cache
def _of(amount: float, unit: str) -> cdk.Duration:
    factor = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}[unit]
    made: cdk.Duration = getattr(cdk.Duration, unit)(amount)
    _SECONDS[made] = amount * factor
    return made


def seconds(amount: float) -> cdk.Duration:
    return _of(amount, "seconds")


def minutes(amount: float) -> cdk.Duration:
    return _of(amount, "minutes")


def hours(amount: float) -> cdk.Duration:
    return _of(amount, "hours")


def days(amount: float) -> cdk.Duration:
    return _of(amount, "days")


def in_seconds(duration: cdk.Duration) -> float:
    """`duration.to_seconds()`, remembered per Duration object."""
    found = _SECONDS.get(duration)
    if found is None:
        found = _SECONDS[duration] = duration.to_seconds()
    return found
