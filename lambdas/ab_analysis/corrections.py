"""Multiple-comparison corrections across metrics x variants.

Holm (1979) controls the family-wise error rate; Benjamini-Hochberg (1995) controls the
false discovery rate. Both return adjusted p-values in the input order, as
``statsmodels.stats.multitest.multipletests`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np


class Correction(StrEnum):
    HOLM = "holm"
    BENJAMINI_HOCHBERG = "bh"
    NONE = "none"


def holm(p_values: Sequence[float]) -> list[float]:
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted.tolist()


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted.tolist()


def adjust(p_values: Sequence[float], method: Correction) -> list[float]:
    if method is Correction.HOLM:
        return holm(p_values)
    if method is Correction.BENJAMINI_HOCHBERG:
        return benjamini_hochberg(p_values)
    return [float(p) for p in p_values]
