"""The drift baseline of a deployed model: a profile of the training set it was trained on.

Pure (numpy, via the drift engine's scipy-free profiling path): which objects of a run's
training-data prefix are data files, which columns are features, and how the per-file
columns become one `DatasetProfile`. Parquet decoding and S3 are in `baseline_handler`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from lambdas.common.errors import InputError
from lambdas.drift.dataset_profile import DatasetProfile, profile_baseline
from lambdas.drift.numeric_profile import Column
from lambdas.training.run_naming import ARTIFACT_PREFIX, sanitize_name

#: Name of the per-run copy of the baseline, next to the run's training set and output.
VERSIONED_NAME = "baseline-profile.json"


def default_baseline_key(model: str) -> str:
    """Where the drift monitor reads the model's baseline (stacks/monitoring_stack.py)."""
    return f"baselines/{model}/profile.json"


def versioned_baseline_key(model: str, run_id: str, artifact_prefix: str = ARTIFACT_PREFIX) -> str:
    """The run's own copy, under the same prefix as `run_naming.run_names` puts its data."""
    return f"{artifact_prefix.strip('/')}/{sanitize_name(model)}/{run_id}/{VERSIONED_NAME}"


def data_object_keys(listing: Iterable[Mapping[str, Any]]) -> list[str]:
    """Keys of the data files among listed objects, in key order.

    Athena UNLOAD names its files `<query id>_<n>` without an extension, so the extension
    cannot decide; empty "folder" markers and `_`/`.`-prefixed bookkeeping files
    (`_SUCCESS`, Spark's `.crc`) are not data.
    """
    keys = []
    for item in listing:
        key = str(item["Key"])
        name = key.rsplit("/", 1)[-1]
        if not name or name.startswith(("_", ".")) or int(item.get("Size", 1)) == 0:
            continue
        keys.append(key)
    return sorted(keys)


def _concatenate(parts: Sequence[Column]) -> Column:
    arrays = [np.asarray(p) for p in parts]
    if len(arrays) == 1:
        return arrays[0]
    # A file whose column is all null decodes as object; mixing with float64 keeps objects,
    # which the profiler still recognises as numeric when they hold only numbers.
    return np.concatenate(arrays)


def baseline_from_parts(
    parts: Sequence[tuple[str, Mapping[str, Column]]],
    *,
    excluded: Collection[str],
) -> DatasetProfile:
    """One profile over every data file of the training set, minus the excluded columns.

    `parts` are (source, columns) per file. Every file must hold the same columns: a
    training set whose files disagree is not one table, and a baseline of it would
    describe no model's input.
    """
    if not parts:
        raise InputError.single("training_data_uri", "holds no data files: the training set is empty")
    first_source, first = parts[0]
    expected = [name for name in first if name not in excluded]
    for source, columns in parts[1:]:
        names = [name for name in columns if name not in excluded]
        if set(names) != set(expected):
            raise InputError.single(
                "training_data_uri",
                f"files disagree on columns: {first_source} has {sorted(expected)}, "
                f"{source} has {sorted(names)}",
            )
    if not expected:
        raise InputError.single(
            "excluded_columns",
            f"leave no feature to profile: the training set's columns are {sorted(first)}",
        )
    columns = {name: _concatenate([cols[name] for _, cols in parts]) for name in expected}
    profile = profile_baseline(columns)
    if profile.rows == 0:
        raise InputError.single("training_data_uri", "holds no rows: the training set is empty")
    if not profile.features:
        raise InputError.single("training_data_uri", f"no column could be profiled: {dict(profile.problems)}")
    return profile
