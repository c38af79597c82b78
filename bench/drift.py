"""Drift engine benchmark: 100 numeric features, 1M baseline rows and 1M current rows, one core.

Prints profile time, scoring time, rows per second and peak memory of the engine, next to
the obvious per-column scipy approach on the same data (ks_2samp + wasserstein_distance +
a quantile histogram for PSI and jensenshannon). Target: the engine under 10 s in all and
peak memory under 2x the input arrays. Times are CPU seconds of this process (one thread).

    .venv/bin/python bench/drift.py [--rows 1000000] [--features 100] [--scipy-columns 100]

`--scipy-columns` times the scipy approach on that many columns and scales the time to
all features (it takes ~0.5 s per column).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, as the brief asks; must precede the numpy import

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402

from lambdas.drift.dataset_profile import profile_baseline, profile_current  # noqa: E402
from lambdas.drift.decision import score  # noqa: E402


def make_data(rows: int, features: int, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Feature-major arrays (each column contiguous); a tenth of the features shift by 0.25 sigma."""
    rng = np.random.default_rng(seed)
    baseline = rng.standard_normal((features, rows))
    current = rng.standard_normal((features, rows))
    current[: features // 10] += 0.25
    names = [f"f{i:03d}" for i in range(features)]
    return dict(zip(names, baseline, strict=True)), dict(zip(names, current, strict=True))


def scipy_per_column(baseline: np.ndarray, current: np.ndarray) -> tuple[float, float, float, float]:
    edges = np.quantile(baseline, np.linspace(0, 1, 11))
    edges[0], edges[-1] = -np.inf, np.inf
    p = np.histogram(baseline, edges)[0] / baseline.size
    q = np.histogram(current, edges)[0] / current.size
    p_safe, q_safe = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    psi = float(np.sum((q_safe - p_safe) * np.log(q_safe / p_safe)))
    ks = stats.ks_2samp(baseline, current)
    w = stats.wasserstein_distance(baseline, current) / baseline.std()
    return psi, float(jensenshannon(p, q, base=2)), float(ks.pvalue), float(w)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--scipy-columns", type=int, default=None, help="default: all features")
    args = parser.parse_args()
    baseline, current = make_data(args.rows, args.features)
    input_bytes = sum(a.nbytes for a in baseline.values()) + sum(a.nbytes for a in current.values())
    total_rows = 2 * args.rows

    # CPU time of this process: on a shared machine wall time measures the neighbours too
    clock = time.process_time
    tracemalloc.start()
    start = clock()
    base_profile = profile_baseline(baseline)
    cur_profile = profile_current(base_profile, current)
    profiled = clock()
    result = score(base_profile, cur_profile)
    scored = clock()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    profile_s, score_s = profiled - start, scored - profiled
    print(
        f"data: {args.features} features x {args.rows:,} rows x 2 datasets ({input_bytes / 2**20:,.0f} MiB float64)"
    )
    print(
        f"engine profile time    {profile_s:8.2f} s  ({total_rows / profile_s:,.0f} rows/s, all features per row)"
    )
    print(f"engine scoring time    {score_s:8.3f} s")
    print(
        f"engine total           {profile_s + score_s:8.2f} s  ({total_rows / (profile_s + score_s):,.0f} rows/s)"
    )
    print(
        f"engine peak extra memory {peak / 2**20:,.0f} MiB on top of the inputs "
        f"(peak / inputs = {(input_bytes + peak) / input_bytes:.3f}x)"
    )
    print(f"process max RSS        {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:,.0f} MiB")
    print(f"drifted features: {len(result.drifted)} of {len(result.scored)} (10% were shifted by 0.25 sigma)")

    names = list(baseline)[: args.scipy_columns or args.features]
    start = clock()
    for name in names:
        scipy_per_column(baseline[name], current[name])
    scipy_s = (clock() - start) * args.features / len(names)
    scaled = "" if len(names) == args.features else f" (timed on {len(names)} columns, scaled)"
    print(
        f"per-column scipy total {scipy_s:8.2f} s{scaled}; engine speed-up {scipy_s / (profile_s + score_s):.1f}x"
    )


if __name__ == "__main__":
    main()
