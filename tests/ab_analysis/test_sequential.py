"""mSPRT: always-valid under continuous peeking (A/A simulation), duality, persisted state."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import special

from lambdas.ab_analysis.power import sequential_required_sample_size
from lambdas.ab_analysis.sequential import (
    SequentialState,
    confidence_radius,
    mixture_variance,
    msprt_p_value,
    optimal_variance_ratio,
)
from lambdas.common.errors import InputError

EXPERIMENTS, LOOKS, BATCH, ALPHA = 2000, 20, 50, 0.05


def _cumulative_looks(
    rng: np.random.Generator, effect: float = 0.0, batch: int = BATCH
) -> tuple[np.ndarray, ...]:
    """Per experiment and look: cumulative n, mean difference and its variance (vectorised)."""
    control = rng.standard_normal((EXPERIMENTS, LOOKS, batch))
    treatment = rng.standard_normal((EXPERIMENTS, LOOKS, batch)) + effect
    n = batch * np.arange(1, LOOKS + 1)

    def moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = np.cumsum(x.sum(axis=2), axis=1)
        ss = np.cumsum((x * x).sum(axis=2), axis=1)
        mean = s / n
        var = (ss - s * s / n) / (n - 1)
        return mean, var

    mean_c, var_c = moments(control)
    mean_t, var_t = moments(treatment)
    diff = mean_t - mean_c
    variance = var_c / n + var_t / n
    return n, diff, variance, var_c, var_t


def test_sequential_false_positive_rate_stays_below_alpha_while_naive_peeking_exceeds_it() -> None:
    rng = np.random.default_rng(2024)
    n, diff, variance, var_c, var_t = _cumulative_looks(rng)
    # Naive: a Welch t-test at every look, stopping at the first p < alpha.
    df = variance**2 / ((var_c / n) ** 2 / (n - 1) + (var_t / n) ** 2 / (n - 1))
    naive_p = 2 * special.stdtr(df, -np.abs(diff) / np.sqrt(variance))
    naive_fpr = float((naive_p < ALPHA).any(axis=1).mean())
    # Sequential: running minimum of the always-valid p-value, tuned to the final sample.
    total_n = 2 * n
    tau_sq = mixture_variance(variance, total_n, tuning_n=float(total_n[-1]), alpha=ALPHA)
    always_valid = np.minimum.accumulate(msprt_p_value(diff, variance, tau_sq), axis=1)
    sequential_fpr = float((always_valid[:, -1] < ALPHA).mean())
    mc_error = math.sqrt(ALPHA * (1 - ALPHA) / EXPERIMENTS)
    assert sequential_fpr <= ALPHA + 3 * mc_error
    assert naive_fpr > ALPHA + 3 * mc_error
    # With 20 looks the naive procedure is known to reach roughly 20-25 %.
    assert naive_fpr > 0.15


def test_sequential_power_is_high_when_the_effect_is_real() -> None:
    rng = np.random.default_rng(99)
    n, diff, variance, _, _ = _cumulative_looks(rng, effect=0.2)
    tau_sq = mixture_variance(variance, 2 * n, tuning_n=float(2 * n[-1]), alpha=ALPHA)
    always_valid = np.minimum.accumulate(msprt_p_value(diff, variance, tau_sq), axis=1)
    # Fixed-horizon power at n=1000 per arm and d=0.2 is 0.994; always-valid inference pays a little.
    assert float((always_valid[:, -1] < ALPHA).mean()) > 0.9


def test_confidence_sequences_cover_the_true_effect_at_every_look() -> None:
    rng = np.random.default_rng(3)
    n, diff, variance, _, _ = _cumulative_looks(rng, effect=0.1)
    tau_sq = mixture_variance(variance, 2 * n, tuning_n=float(2 * n[-1]), alpha=ALPHA)
    radius = confidence_radius(variance, tau_sq, ALPHA)
    low = np.maximum.accumulate(diff - radius, axis=1)
    high = np.minimum.accumulate(diff + radius, axis=1)
    ever_missed = ((low > 0.1) | (high < 0.1)).any(axis=1).mean()
    assert ever_missed <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / EXPERIMENTS)


def test_p_value_and_confidence_sequence_are_dual_at_a_single_look() -> None:
    variance = np.full(200, 0.01)
    tau_sq = np.full(200, 0.05)
    estimates = np.linspace(-0.6, 0.6, 200)
    p = msprt_p_value(estimates, variance, tau_sq)
    radius = confidence_radius(variance, tau_sq, ALPHA)
    assert np.array_equal(p < ALPHA, np.abs(estimates) > radius)


def test_mixing_variance_is_optimal_at_the_tuning_sample() -> None:
    ratio = optimal_variance_ratio(ALPHA)
    widths = [float(confidence_radius(1.0, x, ALPHA)) for x in (0.5 * ratio, ratio, 2 * ratio)]
    assert widths[1] < widths[0]
    assert widths[1] < widths[2]
    assert ratio == pytest.approx(2 * math.log(1 / ALPHA) + math.log1p(ratio))


def test_state_keeps_the_running_minimum_and_intersects_intervals_across_looks() -> None:
    state = SequentialState(tuning_n=2000)
    first = state.observe(
        "revenue/B",
        estimate=0.5,
        variance=0.01,
        relative=0.1,
        relative_variance=0.001,
        total_n=500,
        alpha=ALPHA,
    )
    second = state.observe(
        "revenue/B",
        estimate=0.0,
        variance=0.005,
        relative=0.0,
        relative_variance=0.0005,
        total_n=1000,
        alpha=ALPHA,
    )
    assert second.p_value == first.p_value
    assert second.ci_absolute[0] >= first.ci_absolute[0]
    assert second.ci_absolute[1] <= first.ci_absolute[1]
    assert state.comparisons["revenue/B"].looks == 2


def test_state_survives_a_json_round_trip() -> None:
    state = SequentialState(tuning_n=1234)
    state.observe(
        "m/B", estimate=0.1, variance=0.01, relative=None, relative_variance=None, total_n=100, alpha=0.05
    )
    restored = SequentialState.from_dict(json.loads(json.dumps(state.to_dict())), default_tuning_n=5000)
    assert restored == state


def test_state_observe_matches_the_vectorised_running_minimum() -> None:
    rng = np.random.default_rng(8)
    n, diff, variance, _, _ = _cumulative_looks(rng)
    tuning = float(2 * n[-1])
    tau_sq = mixture_variance(variance, 2 * n, tuning, ALPHA)
    expected = np.minimum.accumulate(msprt_p_value(diff, variance, tau_sq), axis=1)
    for experiment in range(5):
        state = SequentialState(tuning_n=tuning)
        for look in range(LOOKS):
            result = state.observe(
                "m/B",
                estimate=float(diff[experiment, look]),
                variance=float(variance[experiment, look]),
                relative=None,
                relative_variance=None,
                total_n=int(2 * n[look]),
                alpha=ALPHA,
            )
            assert result.p_value == pytest.approx(expected[experiment, look], rel=1e-12)


def test_state_refuses_a_sample_smaller_than_the_previous_look() -> None:
    state = SequentialState()
    state.observe(
        "m/B", estimate=0.1, variance=0.01, relative=None, relative_variance=None, total_n=1000, alpha=0.05
    )
    with pytest.raises(InputError, match=r"state\.comparisons\.m/B\.total_n"):
        state.observe(
            "m/B", estimate=0.1, variance=0.01, relative=None, relative_variance=None, total_n=900, alpha=0.05
        )


def test_malformed_state_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"state\.comparisons\.m/B"):
        SequentialState.from_dict({"comparisons": {"m/B": {"looks": "many"}}}, default_tuning_n=10)


def test_sequential_sample_size_reaches_the_planned_power_with_hourly_looks() -> None:
    effect = 0.2
    planned_total = sequential_required_sample_size(effect, 1.0, alpha=ALPHA, power=0.8)
    batch = math.ceil(planned_total / 2 / LOOKS)
    rng = np.random.default_rng(17)
    n, diff, variance, _, _ = _cumulative_looks(rng, effect=effect, batch=batch)
    tau_sq = mixture_variance(variance, 2 * n, tuning_n=float(2 * n[-1]), alpha=ALPHA)
    power = float(
        (np.minimum.accumulate(msprt_p_value(diff, variance, tau_sq), axis=1)[:, -1] < ALPHA).mean()
    )
    # The plan only counts a crossing at the last look, so the achieved power is at least 0.8.
    assert power >= 0.8 - 3 * math.sqrt(0.8 * 0.2 / EXPERIMENTS)
    assert power < 0.95
