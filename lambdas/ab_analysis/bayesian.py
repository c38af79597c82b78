"""Bayesian view of a comparison under a flat prior and a Gaussian approximation.

The posterior of the true difference is N(estimate, se^2). "Chance to win" is the
posterior probability that the treatment is better in the metric's good direction;
"expected loss" is the expected shortfall E[max(0, -effect)] accepted by shipping it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special


@dataclass(frozen=True)
class BayesianView:
    chance_to_win: float
    expected_loss: float


def bayesian_view(difference: float, se: float, higher_is_better: bool = True) -> BayesianView:
    effect = difference if higher_is_better else -difference
    if se == 0:
        return BayesianView(1.0 if effect > 0 else 0.0 if effect < 0 else 0.5, max(-effect, 0.0))
    z = effect / se
    chance = float(special.ndtr(z))
    density = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    # E[max(0, -D)] for D ~ N(effect, se^2).
    loss = se * density - effect * float(special.ndtr(-z))
    return BayesianView(chance, max(loss, 0.0))
