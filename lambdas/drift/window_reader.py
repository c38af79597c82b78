"""One S3 object of a window to feature columns: data capture JSON Lines or Parquet.

Parquet needs pyarrow, imported only here and only for Parquet, so the data-capture
functions never carry it (pyarrow and scipy together overflow Lambda's 250 MB).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from lambdas.common.errors import InputError, Problem
from lambdas.drift.data_capture import read_capture_lines
from lambdas.drift.dataset_profile import DatasetProfile
from lambdas.drift.numeric_profile import Column


@dataclass
class ObjectColumns:
    columns: dict[str, Column]
    rows: int
    bad_lines: int = 0
    problems: list[Problem] = field(default_factory=list)


def capture_columns(
    body: bytes, source: str, baseline: DatasetProfile, feature_names: list[str], prediction_feature: str
) -> ObjectColumns:
    order = feature_names or [n for n in baseline.features if n != prediction_feature]
    batch = read_capture_lines(body.splitlines(), order, source=source)
    columns: dict[str, Column] = dict(batch.columns)
    if prediction_feature in baseline.features and batch.rows:
        columns[prediction_feature] = batch.predictions
    return ObjectColumns(columns, batch.rows, batch.bad_lines, batch.problems)


def parquet_columns(body: bytes, source: str) -> ObjectColumns:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError) as exc:
        raise InputError.single("", f"is not readable Parquet ({exc})", source) from None
    columns: dict[str, Column] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            columns[name] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        else:
            columns[name] = np.asarray(column.to_pylist(), dtype=object)
    return ObjectColumns(columns, table.num_rows)


def object_columns(
    body: bytes, key: str, source: str, baseline: DatasetProfile, settings: Any
) -> ObjectColumns:
    if key.endswith(".parquet"):
        return parquet_columns(body, source)
    return capture_columns(body, source, baseline, settings.feature_names, settings.prediction_feature)
