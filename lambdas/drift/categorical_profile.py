"""Categorical feature profile: frequencies of the baseline's categories plus OTHER and missing.

The category list is frozen at baseline time (the `max_categories` most frequent values,
ties broken by name so the choice is deterministic). Later profiles count values outside
the list in OTHER, so a category that appears only after deployment shows up as OTHER
growing, and partitions counted against the same list add up to their union.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lambdas.common.errors import InputError
from lambdas.drift.numeric_profile import Column

DEFAULT_MAX_CATEGORIES = 100
OTHER = "__OTHER__"


@dataclass(frozen=True, eq=False)
class CategoricalProfile:
    """Counts per frozen category; `counts[-1]` is OTHER. Missing values are counted apart."""

    categories: tuple[str, ...]
    counts: NDArray[np.int64]
    missing_count: int

    kind = "categorical"

    @property
    def n(self) -> int:
        """Number of present (non-missing) values."""
        return int(self.counts.sum())

    @property
    def total(self) -> int:
        return self.n + self.missing_count

    @property
    def other_count(self) -> int:
        return int(self.counts[-1])

    @property
    def labels(self) -> tuple[str, ...]:
        return (*self.categories, OTHER)


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN is the only value unequal to itself
        return True
    return isinstance(value, str) and value == ""


def category_strings(values: Column) -> tuple[NDArray[np.str_], int]:
    """Present values as strings and the number of missing ones (None, NaN, empty string)."""
    array = np.asarray(values, dtype=object).ravel()
    if array.size == 0:
        return np.empty(0, dtype=str), 0
    missing = np.fromiter((_is_missing(v) for v in array), dtype=bool, count=array.size)
    present = array[~missing]
    return present.astype(str), int(missing.sum())


def profile_categorical(
    values: Column,
    *,
    categories: Sequence[str] | None = None,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
) -> CategoricalProfile:
    """Profile one column. Without `categories` the list comes from this data (a baseline)."""
    present, missing = category_strings(values)
    uniques, counts = np.unique(present, return_counts=True)
    if categories is None:
        # most frequent first; np.unique sorted the names, and a stable sort keeps that order for ties
        order = np.argsort(-counts, kind="stable")[:max_categories]
        categories = tuple(str(u) for u in uniques[order])
    categories = tuple(categories)
    if OTHER in categories:
        raise InputError.single("categories", f"{OTHER!r} is reserved for unseen values")
    index = {c: i for i, c in enumerate(categories)}
    out = np.zeros(len(categories) + 1, dtype=np.int64)
    for name, count in zip(uniques.tolist(), counts.tolist(), strict=True):
        out[index.get(name, len(categories))] += count
    return CategoricalProfile(categories=categories, counts=out, missing_count=missing)


def merge_categorical(
    a: CategoricalProfile, b: CategoricalProfile, feature: str = "value"
) -> CategoricalProfile:
    """Profile of the union of the two partitions."""
    if a.categories != b.categories:
        raise InputError.single(
            feature, "profiles were built on different category lists and cannot be merged"
        )
    return CategoricalProfile(a.categories, a.counts + b.counts, a.missing_count + b.missing_count)
