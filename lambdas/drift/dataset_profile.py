"""Profiles of whole datasets: a baseline built from data, current windows built on its bins.

`profile_baseline` freezes bins and category lists; `profile_current` counts a window (or
one partition of it) on the baseline's bins; `merge_profiles` adds partitions. A column
that cannot be profiled (say, text in a numeric feature) is recorded in `problems` with
the reason instead of failing the whole dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass, field
from functools import reduce

import numpy as np

from lambdas.common.errors import InputError
from lambdas.drift.categorical_profile import (
    DEFAULT_MAX_CATEGORIES,
    CategoricalProfile,
    merge_categorical,
    profile_categorical,
)
from lambdas.drift.numeric_profile import (
    DEFAULT_BINS,
    DEFAULT_MAX_EXACT,
    Column,
    NumericProfile,
    merge_numeric,
    profile_numeric,
)

FeatureProfile = NumericProfile | CategoricalProfile
KINDS = ("numeric", "categorical")


@dataclass(frozen=True)
class DatasetProfile:
    """Per-feature profiles of one dataset, plus the features that could not be profiled."""

    features: dict[str, FeatureProfile]
    rows: int
    problems: dict[str, str] = field(default_factory=dict)


def infer_kind(values: Column) -> str:
    """numeric for int/float columns (and object columns holding only numbers), else categorical."""
    array = np.asarray(values)
    if array.dtype.kind in "iuf":
        return "numeric"
    if array.dtype.kind == "O":
        present = [v for v in array.ravel() if v is not None and not (isinstance(v, float) and v != v)]
        if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            return "numeric"
    return "categorical"


def _column_length(values: Column) -> int:
    shape = getattr(values, "shape", None)
    if shape is not None:
        return int(shape[0]) if shape else 0
    return len(values) if isinstance(values, Sized) else 0


def _rows(columns: Mapping[str, Column]) -> int:
    lengths = {name: _column_length(v) for name, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InputError.single("columns", f"columns have different lengths: {lengths}")
    return next(iter(lengths.values()), 0)


def profile_baseline(
    columns: Mapping[str, Column],
    *,
    kinds: Mapping[str, str] | None = None,
    bins: int = DEFAULT_BINS,
    max_exact: int = DEFAULT_MAX_EXACT,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
) -> DatasetProfile:
    """Baseline profile: bins from this data's quantiles, categories from its frequencies."""
    kinds = dict(kinds or {})
    for name, kind in kinds.items():
        if kind not in KINDS:
            raise InputError.single(f"kinds.{name}", f"must be one of {KINDS}, got {kind!r}")
    features: dict[str, FeatureProfile] = {}
    problems: dict[str, str] = {}
    for name, values in columns.items():
        kind = kinds.get(name) or infer_kind(values)
        try:
            if kind == "numeric":
                features[name] = profile_numeric(values, bins=bins, max_exact=max_exact, feature=name)
            else:
                features[name] = profile_categorical(values, max_categories=max_categories)
        except InputError as exc:
            problems[name] = str(exc)
    return DatasetProfile(features, _rows(columns), problems)


def profile_current(baseline: DatasetProfile, columns: Mapping[str, Column]) -> DatasetProfile:
    """Profile of a window (or a partition of it) on the baseline's frozen bins and categories.

    Columns the baseline does not know are left out here; scoring reports them.
    """
    features: dict[str, FeatureProfile] = {}
    problems: dict[str, str] = {}
    for name, values in columns.items():
        reference = baseline.features.get(name)
        try:
            if isinstance(reference, NumericProfile):
                features[name] = profile_numeric(
                    values, edges=reference.edges, max_exact=reference.max_exact, feature=name
                )
            elif isinstance(reference, CategoricalProfile):
                features[name] = profile_categorical(values, categories=reference.categories)
        except InputError as exc:
            problems[name] = str(exc)
    return DatasetProfile(features, _rows(columns), problems)


def _merge_pair(a: DatasetProfile, b: DatasetProfile) -> DatasetProfile:
    features: dict[str, FeatureProfile] = {}
    problems = {**a.problems, **b.problems}
    for name in sorted(set(a.features) | set(b.features)):
        left, right = a.features.get(name), b.features.get(name)
        if left is None or right is None:
            # a partition without the column: keep what exists, say so
            features[name] = left if left is not None else right  # type: ignore[assignment]
            problems.setdefault(name, "column is missing from some partitions")
        elif isinstance(left, NumericProfile) and isinstance(right, NumericProfile):
            features[name] = merge_numeric(left, right, name)
        elif isinstance(left, CategoricalProfile) and isinstance(right, CategoricalProfile):
            features[name] = merge_categorical(left, right, name)
        else:
            problems[name] = "partitions disagree on whether the feature is numeric or categorical"
    return DatasetProfile(features, a.rows + b.rows, problems)


def merge_profiles(profiles: Iterable[DatasetProfile]) -> DatasetProfile:
    """Profile of the union of partitions; equal to a single pass over all their rows."""
    items = list(profiles)
    if not items:
        raise InputError.single("profiles", "nothing to merge: no partition profiles were given")
    return reduce(_merge_pair, items)
