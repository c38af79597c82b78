"""Glue job arguments: the one place that knows their names, for the scripts and the construct.

Pure: the scripts pass ``getResolvedOptions``'s dict in; the construct builds
``DefaultArguments`` from the same names, so a renamed argument cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from lambdas.common.errors import InputError

SPEC = "spec"
FEATURE_GROUP = "feature_group"
SOURCE_DATABASE = "source_database"
SOURCE_TABLE = "source_table"
OFFLINE_PATH = "offline_path"
ONLINE_TABLE = "online_table"
CHECKPOINT_BUCKET = "checkpoint_bucket"
CHECKPOINT_PREFIX = "checkpoint_prefix"
PARTITIONS = "partitions"
WRITES_PER_SECOND = "writes_per_second"
LOOKBACK_HOURS = "lookback_hours"
END = "end"

BATCH_ARGS = (SPEC, FEATURE_GROUP, SOURCE_DATABASE, SOURCE_TABLE, OFFLINE_PATH)
MATERIALIZATION_ARGS = (
    FEATURE_GROUP,
    OFFLINE_PATH,
    ONLINE_TABLE,
    CHECKPOINT_BUCKET,
    CHECKPOINT_PREFIX,
    PARTITIONS,
    WRITES_PER_SECOND,
    LOOKBACK_HOURS,
    END,
)
#: EventBridge Scheduler replaces this with the schedule's time when it starts the run.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def flag(name: str) -> str:
    """``--name`` as Glue's DefaultArguments and Arguments spell it."""
    return f"--{name}"


def materialization_range(args: Mapping[str, str]) -> tuple[int, int]:
    """(start_ms, end_ms) from ``--end`` (ISO-8601, e.g. the scheduled time) and ``--lookback_hours``."""
    try:
        end = datetime.fromisoformat(args[END].replace("Z", "+00:00"))
    except ValueError:
        raise InputError.single(
            flag(END), f"{args[END]!r} is not an ISO-8601 time", "materialization job"
        ) from None
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    try:
        hours = float(args[LOOKBACK_HOURS])
    except ValueError:
        raise InputError.single(
            flag(LOOKBACK_HOURS), "must be a number of hours", "materialization job"
        ) from None
    if hours <= 0:
        raise InputError.single(flag(LOOKBACK_HOURS), "must be positive", "materialization job")
    start = end - timedelta(hours=hours)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return (start - epoch) // timedelta(milliseconds=1), (end - epoch) // timedelta(milliseconds=1)
