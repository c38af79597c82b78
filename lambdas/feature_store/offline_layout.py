"""Where and how the offline store keeps a feature group: Hive paths and column types.

Shared by the Parquet writer, the Glue table definitions in the construct and the
point-in-time SQL, so the three cannot drift apart. Pure: no pyarrow, no boto3.

    s3://<bucket>/<prefix>/feature_group=<group>/event_date=YYYY-MM-DD/part-<hash>.parquet
"""

from __future__ import annotations

from datetime import UTC, datetime

from lambdas.feature_store.registry import Dtype, FeatureGroup

EVENT_TIME_COLUMN = "event_time"
WRITTEN_AT_COLUMN = "written_at"
SCHEMA_VERSION_COLUMN = "schema_version"
PARTITION_COLUMN = "event_date"
PARTITION_DATE_FORMAT = "yyyy-MM-dd"  # Glue partition projection (Java) format
# Projection needs a lower bound; events before it are rejected by validation anyway.
PARTITION_RANGE = "2000-01-01,NOW"

GLUE_TYPES: dict[Dtype, str] = {
    Dtype.INT64: "bigint",
    Dtype.FLOAT64: "double",
    Dtype.STRING: "string",
    Dtype.BOOL: "boolean",
}


def group_prefix(prefix: str, group_name: str) -> str:
    """Key prefix of the group (no leading or trailing slash)."""
    parts = [p for p in prefix.strip("/").split("/") if p]
    return "/".join([*parts, f"feature_group={group_name}"])


def event_date(event_time_ms: int) -> str:
    return datetime.fromtimestamp(event_time_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def partition_prefix(prefix: str, group_name: str, date: str) -> str:
    return f"{group_prefix(prefix, group_name)}/{PARTITION_COLUMN}={date}"


def glue_table_name(group: FeatureGroup) -> str:
    return group.name


def glue_columns(group: FeatureGroup) -> list[tuple[str, str]]:
    """(name, Glue/Hive type) of the data columns, in file order; partition key excluded."""
    return [
        (group.entity_key, "string"),
        (EVENT_TIME_COLUMN, "timestamp"),
        (WRITTEN_AT_COLUMN, "timestamp"),
        (SCHEMA_VERSION_COLUMN, "bigint"),
        *((f.name, GLUE_TYPES[f.dtype]) for f in group.features),
    ]
