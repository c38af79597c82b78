"""Adjusted p-values across features (same values as statsmodels' multipletests).

Holm controls the family-wise error rate: with it, "any feature drifted" raises a false
alarm on undrifted data at most at rate alpha. Benjamini-Hochberg controls the false
discovery rate: the expected share of flagged features that did not drift.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

CORRECTIONS = ("holm", "bh", "none")


def holm(p_values: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(scaled, 1.0)
    return adjusted


def benjamini_hochberg(p_values: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted


def adjust(p_values: ArrayLike, method: str) -> NDArray[np.float64]:
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    if method == "none":
        return np.asarray(p_values, dtype=np.float64)
    raise ValueError(f"unknown correction {method!r}; expected one of {CORRECTIONS}")
