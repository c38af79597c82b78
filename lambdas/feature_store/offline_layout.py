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

# Glue table parameters holding the registry: the Data Catalog is where the runtime reads
# feature group definitions, so Athena tables and the registry cannot disagree.
REGISTRY_PARAMETER = "feature_store.registry"
FINGERPRINT_PARAMETER = "feature_store.fingerprint"

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


def group_location(bucket: str, prefix: str, group_name: str) -> str:
    return f"s3://{bucket}/{group_prefix(prefix, group_name)}/"


def glue_table_parameters(group: FeatureGroup, bucket: str, prefix: str) -> dict[str, str]:
    """Table parameters: Parquet, partition projection on event_date, and the registry."""
    location = group_location(bucket, prefix, group.name)
    return {
        "classification": "parquet",
        "EXTERNAL": "TRUE",
        "projection.enabled": "true",
        f"projection.{PARTITION_COLUMN}.type": "date",
        f"projection.{PARTITION_COLUMN}.format": PARTITION_DATE_FORMAT,
        f"projection.{PARTITION_COLUMN}.range": PARTITION_RANGE,
        f"projection.{PARTITION_COLUMN}.interval": "1",
        f"projection.{PARTITION_COLUMN}.interval.unit": "DAYS",
        "storage.location.template": f"{location}{PARTITION_COLUMN}=${{{PARTITION_COLUMN}}}",
        REGISTRY_PARAMETER: group.to_json(),
        FINGERPRINT_PARAMETER: group.fingerprint,
    }


PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"


def glue_table_input(group: FeatureGroup, bucket: str, prefix: str) -> dict[str, object]:
    """The Glue ``TableInput`` of a group (API shape; the construct builds the same)."""
    return {
        "Name": glue_table_name(group),
        "Description": group.description or f"Feature group {group.name} (owner {group.owner_team})",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": glue_table_parameters(group, bucket, prefix),
        "PartitionKeys": [{"Name": PARTITION_COLUMN, "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in glue_columns(group)],
            "Location": group_location(bucket, prefix, group.name),
            "InputFormat": PARQUET_INPUT,
            "OutputFormat": PARQUET_OUTPUT,
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
        },
    }
