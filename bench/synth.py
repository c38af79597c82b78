"""Synth benchmark: wall time and peak memory of synthesizing the default platform and a 100-model one.

Each case runs in a fresh process (jsii start-up included, as in CI) the way `cdk synth` runs
app.py: with cdk.json's context (feature flags), cdk-nag on and, for a config that large,
parallel synthesis (one process per core, stacks/parallel_synth.py). Asset bundling is skipped
(it is cached by content and measured by its own tests).
Targets on 2 cores: default under 30 s; 100 models under 3x the default.

A shared 2-core VM varies by 10-20 % from run to run, so each case runs `--repeat` times
(default 3), the cases interleaved so that both see the same quiet or busy spells, and the
ratio is taken between the median wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CASE = """
import json, sys
from stacks.jsii_node import configure_jsii_node
configure_jsii_node()  # as app.py does; nothing here imports aws_cdk before synthesize() does
from stacks.cli_context import SKIP_BUNDLING
from stacks.config import load_config
from stacks.config.scaling import with_model_copies
from stacks.parallel_synth import synthesize
config = load_config("config/default.yaml")
models = int(sys.argv[2])
if models > 1:
    config = with_model_copies(config, models)
workers = int(sys.argv[3]) if sys.argv[3] else None
synthesize(config, outdir=sys.argv[1], nag=True, context=SKIP_BUNDLING, workers=workers)
"""


def _tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and all its descendants (Linux /proc), in MB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields.get("PPid", "0"))
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    members = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                changed = True
    return sum(rss.get(pid, 0) for pid in members) / 1024


def _watch_memory(process: subprocess.Popen[bytes], peak: list[float]) -> None:
    while process.poll() is None:
        peak[0] = max(peak[0], _tree_rss_mb(process.pid))
        time.sleep(0.25)


def run_case(models: int, workers: int | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as outdir:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        # cdk.json's context reaches the app the way the CDK CLI passes it: in CDK_CONTEXT_JSON.
        context = json.loads(Path("cdk.json").read_text())["context"]
        process = subprocess.Popen(
            [sys.executable, "-c", CASE, outdir, str(models), str(workers or "")],
            env={**os.environ, "CDK_CONTEXT_JSON": json.dumps(context)},
        )
        peak = [0.0]
        watcher = threading.Thread(target=_watch_memory, args=(process, peak), daemon=True)
        watcher.start()
        if process.wait() != 0:
            raise SystemExit(f"synth of {models} model(s) failed")
        wall = time.perf_counter() - start
        watcher.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        resources = 0
        stacks = 0
        for template in Path(outdir).rglob("*.template.json"):
            stacks += 1
            resources += len(json.loads(template.read_text()).get("Resources", {}))
    return {
        "models": models,
        "wall_s": round(wall, 1),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        # ru_maxrss of children is the largest single descendant (Python or the jsii Node process);
        # the sampled total adds up every process alive at once (workers and their Node processes).
        "peak_rss_mb": round(after.ru_maxrss / 1024, 0),
        "peak_total_mb": round(peak[0], 0),
        "workers": workers or 0,
        "stacks": stacks,
        "resources": resources,
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median wall time (the upper one of an even count); its CPU and memory
    figures are that same run's."""
    return sorted(runs, key=lambda run: run["wall_s"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100, help="size of the large case")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case; medians are compared")
    parser.add_argument(
        "--one-process", action="store_true", help="also time the large case without parallel synthesis"
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    defaults: list[dict[str, float]] = []
    larges: list[dict[str, float]] = []
    for _ in range(args.repeat):
        defaults.append(run_case(1))
        larges.append(run_case(args.models))
        print(
            f"  run: default {defaults[-1]['wall_s']} s, {args.models} models {larges[-1]['wall_s']} s",
            flush=True,
        )
    default, large = _median(defaults), _median(larges)
    cases = [default, large] + ([run_case(args.models, workers=1)] if args.one_process else [])
    for case in cases:
        how = " (one process)" if case["workers"] == 1 else f" (median of {args.repeat})"
        print(
            f"synth {case['models']:>4} model(s){how}: {case['wall_s']:6.1f} s wall, {case['cpu_s']:6.1f} s CPU, "
            f"peak RSS {case['peak_rss_mb']:.0f} MB per process, {case['peak_total_mb']:.0f} MB all processes, "
            f"{case['stacks']} stacks, {case['resources']} resources"
        )
    ratio = large["wall_s"] / default["wall_s"]
    print(f"default under 30 s: {'yes' if default['wall_s'] < 30 else 'NO'} ({default['wall_s']} s)")
    print(f"{args.models} models under 3x default: {'yes' if ratio < 3 else 'NO'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
