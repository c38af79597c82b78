"""Holm and Benjamini-Hochberg against statsmodels and the published worked examples."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from lambdas.ab_analysis.corrections import Correction, adjust, benjamini_hochberg, holm

# Benjamini & Hochberg (1995), section 4: 15 p-values from a clinical trial.
BH_PAPER = [
    0.0001,
    0.0004,
    0.0019,
    0.0095,
    0.0201,
    0.0278,
    0.0298,
    0.0344,
    0.0459,
    0.3240,
    0.4262,
    0.5719,
    0.6528,
    0.7590,
    1.0,
]


def test_benjamini_hochberg_rejects_the_four_hypotheses_of_the_original_paper() -> None:
    adjusted = benjamini_hochberg(BH_PAPER)
    assert sum(p <= 0.05 for p in adjusted) == 4


def test_holm_worked_example_stops_at_the_first_non_rejection() -> None:
    # p = (0.01, 0.04, 0.03, 0.005): 0.005 < 0.05/4 and 0.01 < 0.05/3, but 0.03 > 0.05/2.
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert [p < 0.05 for p in adjusted] == [True, False, False, True]
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


@pytest.mark.parametrize("seed", range(5))
def test_corrections_match_statsmodels_multipletests(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 30), rng.uniform(0, 0.01, 10), [0.02, 0.02]])
    rng.shuffle(p)
    assert holm(p.tolist()) == pytest.approx(multipletests(p, method="holm")[1].tolist(), rel=1e-12)
    assert benjamini_hochberg(p.tolist()) == pytest.approx(
        multipletests(p, method="fdr_bh")[1].tolist(), rel=1e-12
    )


def test_no_correction_returns_the_raw_p_values_and_empty_input_is_empty() -> None:
    assert adjust([0.2, 0.01], Correction.NONE) == [0.2, 0.01]
    assert holm([]) == []
    assert benjamini_hochberg([]) == []
