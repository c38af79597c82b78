"""Synth benchmark: wall time and peak memory of synthesizing the default platform and a 100-model one.

Each case runs in a fresh process (jsii start-up included, as in CI) the way `cdk synth` runs
app.py: with the Python options of cdk.json's "app" command (``-O``: stacks/app_command.py),
cdk.json's context (feature flags), cdk-nag on and, for a config that large,
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
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from stacks.app_command import cdk_app_python_options

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


_TICKS = os.sysconf("SC_CLK_TCK")


class _Sampler:
    """Samples `root` and its descendants in /proc every 0.25 s: memory, and CPU per process.

    CPU is the last reading of each process, so it also counts the synth workers' Node
    processes, which a worker leaves to exit by themselves (rusage of waited-for children
    would miss them); each process's last quarter second or less goes uncounted.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_total_mb = 0.0
        self.peak_process_mb = 0.0
        self.cpu_ticks: dict[int, int] = {}

    def sample(self) -> None:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        ticks: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # Fields after the command name: state, ppid, ..., utime (14th), stime (15th).
                fields = stat.read_text().rsplit(")", 1)[1].split()
                status = (stat.parent / "status").read_text()
            except (OSError, IndexError):
                continue
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            ticks[pid] = int(fields[11]) + int(fields[12])
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    rss[pid] = int(line.split()[1])
        members = {self.root}
        changed = True
        while changed:
            changed = False
            for pid, parent in parents.items():
                if parent in members and pid not in members:
                    members.add(pid)
                    changed = True
        self.peak_total_mb = max(self.peak_total_mb, sum(rss.get(pid, 0) for pid in members) / 1024)
        self.peak_process_mb = max([self.peak_process_mb, *(rss.get(pid, 0) / 1024 for pid in members)])
        for pid in members:
            if pid in ticks:
                self.cpu_ticks[pid] = max(self.cpu_ticks.get(pid, 0), ticks[pid])

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_ticks.values()) / _TICKS


def _watch(process: subprocess.Popen[bytes], sampler: _Sampler) -> None:
    while process.poll() is None:
        sampler.sample()
        time.sleep(0.25)


def run_case(models: int, workers: int | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as outdir:
        start = time.perf_counter()
        # cdk.json's context reaches the app the way the CDK CLI passes it: in CDK_CONTEXT_JSON.
        context = json.loads(Path("cdk.json").read_text())["context"]
        process = subprocess.Popen(
            [sys.executable, *cdk_app_python_options(), "-c", CASE, outdir, str(models), str(workers or "")],
            env={**os.environ, "CDK_CONTEXT_JSON": json.dumps(context)},
        )
        sampler = _Sampler(process.pid)
        watcher = threading.Thread(target=_watch, args=(process, sampler), daemon=True)
        watcher.start()
        if process.wait() != 0:
            raise SystemExit(f"synth of {models} model(s) failed")
        wall = time.perf_counter() - start
        watcher.join()
        resources = 0
        stacks = 0
        for template in Path(outdir).rglob("*.template.json"):
            stacks += 1
            resources += len(json.loads(template.read_text()).get("Resources", {}))
    return {
        "models": models,
        "wall_s": round(wall, 1),
        "cpu_s": round(sampler.cpu_s, 1),
        "peak_rss_mb": round(sampler.peak_process_mb, 0),
        "peak_total_mb": round(sampler.peak_total_mb, 0),
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
