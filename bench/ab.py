"""Benchmark of the A/B engine: analysis latency, false-positive rate under peeking, power.

Run: ``.venv/bin/python bench/ab.py [--experiments 10000]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

import numpy as np
from scipy import special

from lambdas.ab_analysis import power
from lambdas.ab_analysis.engine import analyse
from lambdas.ab_analysis.sequential import mixture_variance, msprt_p_value

ALPHA = 0.05


def wide_input(variants: int = 10, metrics: int = 50, sequential: bool = False) -> dict[str, Any]:
    """10 variants x 50 metrics: a third each of mean (half with CUPED), proportion and ratio."""
    rng = np.random.default_rng(0)
    names = [chr(ord("A") + i) for i in range(variants)]
    out: list[dict[str, Any]] = []
    for m in range(metrics):
        kind = ("mean", "proportion", "ratio")[m % 3]
        data: dict[str, Any] = {}
        for v in names:
            n = int(rng.integers(9_900, 10_100))
            if kind == "mean":
                s = float(rng.normal(10 * n, 50))
                data[v] = {"n": n, "sum": s, "sum_sq": s * s / n + 16.0 * (n - 1)}
                if m % 2 == 0:
                    data[v]["covariate"] = {
                        "sum": 9.0 * n,
                        "sum_sq": 81.0 * n + 16.0 * (n - 1),
                        "sum_product": 0.6 * 16.0 * (n - 1) + 9.0 * s,
                    }
            elif kind == "proportion":
                data[v] = {"n": n, "successes": int(rng.binomial(n, 0.1))}
            else:
                d = 3.0 * n
                num = float(rng.normal(6.0 * n, 30))
                data[v] = {
                    "n": n,
                    "numerator_sum": num,
                    "numerator_sum_sq": num * num / n + 9.0 * (n - 1),
                    "denominator_sum": d,
                    "denominator_sum_sq": d * d / n + 2.0 * (n - 1),
                    "sum_product": num * d / n + 1.5 * (n - 1),
                }
        out.append(
            {
                "name": f"metric_{m}",
                "type": kind,
                "guardrail": m >= metrics - 5,
                "margin": 0.02,
                "variants": data,
            }
        )
    return {
        "control": "A",
        "weights": {v: 1 / variants for v in names},
        "alpha": ALPHA,
        "sequential": sequential,
        "correction": "bh",
        "metrics": out,
    }


def time_analysis(repeats: int = 30) -> None:
    for sequential in (False, True):
        data = wide_input(sequential=sequential)
        analyse(data)
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            analyse(data)
            timings.append(time.perf_counter() - start)
        print(
            f"analysis 10 variants x 50 metrics ({'sequential' if sequential else 'fixed'}): "
            f"median {statistics.median(timings) * 1e3:.1f} ms, max {max(timings) * 1e3:.1f} ms (target < 50 ms)"
        )


def _looks(
    rng: np.random.Generator, experiments: int, looks: int, batch: int, effect: float
) -> tuple[np.ndarray, ...]:
    n = batch * np.arange(1, looks + 1)
    sums = []
    for shift in (0.0, effect):
        s = np.zeros((experiments, looks))
        ss = np.zeros((experiments, looks))
        # Chunks keep memory bounded for large runs.
        for start in range(0, experiments, 1000):
            x = rng.standard_normal((min(1000, experiments - start), looks, batch)) + shift
            s[start : start + x.shape[0]] = np.cumsum(x.sum(axis=2), axis=1)
            ss[start : start + x.shape[0]] = np.cumsum((x * x).sum(axis=2), axis=1)
        sums.append((s / n, (ss - s * s / n) / (n - 1)))
    (mc, vc), (mt, vt) = sums
    return n, mt - mc, vc / n + vt / n, vc, vt


def rejection_rates(
    experiments: int, looks: int, batch: int, effect: float, seed: int
) -> tuple[float, float, float]:
    """(naive peeking, sequential, fixed test at the final look) rejection rates."""
    rng = np.random.default_rng(seed)
    n, diff, variance, vc, vt = _looks(rng, experiments, looks, batch, effect)
    df = variance**2 / ((vc / n) ** 2 / (n - 1) + (vt / n) ** 2 / (n - 1))
    naive = 2 * special.stdtr(df, -np.abs(diff) / np.sqrt(variance)) < ALPHA
    tau_sq = mixture_variance(variance, 2 * n, float(2 * n[-1]), ALPHA)
    sequential = np.minimum.accumulate(msprt_p_value(diff, variance, tau_sq), axis=1)[:, -1] < ALPHA
    return float(naive.any(axis=1).mean()), float(sequential.mean()), float(naive[:, -1].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiments", type=int, default=10_000)
    parser.add_argument("--looks", type=int, default=20)
    args = parser.parse_args()
    time_analysis()

    batch = 50
    naive, sequential, _ = rejection_rates(args.experiments, args.looks, batch, 0.0, seed=1)
    mc = math.sqrt(ALPHA * (1 - ALPHA) / args.experiments)
    print(
        f"A/A, {args.experiments} experiments x {args.looks} looks: false-positive rate naive repeated t-test "
        f"{naive:.3f}, sequential mSPRT {sequential:.3f} (alpha {ALPHA}, Monte-Carlo s.e. {mc:.4f})"
    )

    planned_total = 2 * batch * args.looks
    effect = power.minimum_detectable_effect(planned_total, 1.0, alpha=ALPHA, power=0.8)
    naive, sequential, fixed = rejection_rates(args.experiments, args.looks, batch, effect, seed=2)
    print(
        f"power at the planned sample ({planned_total} units, effect = MDE {effect:.4f} sd, planned power 0.80): "
        f"fixed-horizon {fixed:.3f}, sequential {sequential:.3f}"
    )
    sequential_total = power.sequential_required_sample_size(effect, 1.0, alpha=ALPHA, power=0.8)
    batch_seq = math.ceil(sequential_total / 2 / args.looks)
    _, sequential, _ = rejection_rates(args.experiments, args.looks, batch_seq, effect, seed=3)
    print(
        f"power at the sequential plan ({2 * batch_seq * args.looks} units = "
        f"{sequential_total / planned_total:.2f} x fixed, {args.looks} looks): sequential {sequential:.3f} (planned 0.80)"
    )


if __name__ == "__main__":
    main()
