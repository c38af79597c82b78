"""Batched Parquet files for the offline store, named by their content.

One file per (feature group, event date) per batch. The file name is a hash of the
records (entity, event time, encoded values), not of when they were written, so a retried
batch overwrites its own files instead of adding duplicates.
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from lambdas.feature_store import offline_layout as layout
from lambdas.feature_store.registry import Dtype, FeatureGroup
from lambdas.feature_store.validation import ValidRecord

_ARROW_TYPES: dict[Dtype, pa.DataType] = {
    Dtype.INT64: pa.int64(),
    Dtype.FLOAT64: pa.float64(),
    Dtype.STRING: pa.string(),
    Dtype.BOOL: pa.bool_(),
}


@dataclass(frozen=True)
class OfflineFile:
    key: str
    body: bytes
    rows: int


def arrow_schema(group: FeatureGroup) -> pa.Schema:
    # Timestamps without a time zone hold UTC by convention: Athena's and DuckDB's plain
    # TIMESTAMP types both read them without conversion.
    return pa.schema(
        [
            pa.field(group.entity_key, pa.string(), nullable=False),
            pa.field(layout.EVENT_TIME_COLUMN, pa.timestamp("ms"), nullable=False),
            pa.field(layout.WRITTEN_AT_COLUMN, pa.timestamp("ms"), nullable=False),
            pa.field(layout.SCHEMA_VERSION_COLUMN, pa.int64(), nullable=False),
            *(pa.field(f.name, _ARROW_TYPES[f.dtype]) for f in group.features),
        ]
    )


def content_name(group: FeatureGroup, records: Sequence[ValidRecord]) -> str:
    digest = hashlib.sha256(group.fingerprint.encode())
    for rec in records:
        digest.update(f"\x1e{rec.entity_id}\x1f{rec.event_time_ms}\x1f{rec.encoded}".encode())
    return f"part-{digest.hexdigest()[:32]}.parquet"


def to_parquet(group: FeatureGroup, records: Sequence[ValidRecord], written_at_ms: int) -> bytes:
    schema = arrow_schema(group)
    columns: list[list[object]] = [
        [r.entity_id for r in records],
        [r.event_time_ms for r in records],
        [written_at_ms] * len(records),
        [group.schema_version] * len(records),
    ]
    columns.extend([r.values[i] for r in records] for i in range(len(group.features)))
    table = pa.Table.from_arrays(
        [pa.array(col, type=field.type) for col, field in zip(columns, schema, strict=True)],
        schema=schema,
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def offline_files(
    group: FeatureGroup, records: Sequence[ValidRecord], written_at_ms: int, prefix: str
) -> list[OfflineFile]:
    # Within a batch the first record of an (entity, event time) wins, as it does online
    # (later equal event times are UNCHANGED); across batches written_at orders them.
    first: dict[tuple[str, int], ValidRecord] = {}
    for rec in records:
        first.setdefault((rec.entity_id, rec.event_time_ms), rec)
    by_date: dict[str, list[ValidRecord]] = defaultdict(list)
    for rec in first.values():
        by_date[layout.event_date(rec.event_time_ms)].append(rec)
    files = []
    for date, recs in sorted(by_date.items()):
        recs.sort(key=lambda r: (r.entity_id, r.event_time_ms, r.encoded))
        key = f"{layout.partition_prefix(prefix, group.name, date)}/{content_name(group, recs)}"
        files.append(OfflineFile(key, to_parquet(group, recs, written_at_ms), len(recs)))
    return files
