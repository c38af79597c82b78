"""Sample ratio mismatch: is the observed split of units consistent with the configured weights?

A mismatch means assignment or logging is broken, so every comparison is suspect; the
engine refuses to draw conclusions while it is flagged (threshold p < 0.001, as in
Fabijan et al., "Diagnosing sample ratio mismatch", KDD 2019).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scipy import special

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    statistic: float
    p_value: float
    mismatch: bool
    observed: dict[str, int]
    expected: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return {
            "p_value": self.p_value,
            "mismatch": self.mismatch,
            "statistic": self.statistic,
            "threshold": SRM_THRESHOLD,
            "observed": self.observed,
            "expected": self.expected,
        }


def sample_ratio_mismatch(
    counts: Mapping[str, int], weights: Mapping[str, float], threshold: float = SRM_THRESHOLD
) -> SrmResult:
    """Pearson chi-square goodness of fit of ``counts`` to ``weights`` (same keys, weights sum to 1)."""
    total = sum(counts.values())
    expected = {v: total * weights[v] for v in counts}
    statistic = sum((counts[v] - expected[v]) ** 2 / expected[v] for v in counts)
    p_value = float(special.chdtrc(len(counts) - 1, statistic))
    return SrmResult(float(statistic), p_value, p_value < threshold, dict(counts), expected)
