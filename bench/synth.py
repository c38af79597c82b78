"""Synth benchmark: wall time and peak memory of synthesizing the default platform and a 100-model one.

Each case runs in a fresh process (jsii start-up included, as in CI), with cdk-nag on and
asset bundling skipped (bundling is cached by content and measured by its own tests).
Targets on 2 cores: default under 30 s; 100 models under 3x the default.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASE = """
import json, sys
from stacks.app_builder import SKIP_BUNDLING, build_app
from stacks.config import load_config
from stacks.config.scaling import with_model_copies
config = load_config("config/default.yaml")
models = int(sys.argv[2])
if models > 1:
    config = with_model_copies(config, models)
app, _ = build_app(config, outdir=sys.argv[1], nag=True, context=SKIP_BUNDLING)
app.synth()
"""


def run_case(models: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as outdir:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", CASE, outdir, str(models)], check=True)
        wall = time.perf_counter() - start
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
        # ru_maxrss of children is the largest single descendant (Python or the jsii Node process).
        "peak_rss_mb": round(after.ru_maxrss / 1024, 0),
        "stacks": stacks,
        "resources": resources,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100, help="size of the large case")
    args = parser.parse_args()
    default = run_case(1)
    large = run_case(args.models)
    for case in (default, large):
        print(
            f"synth {case['models']:>4} model(s): {case['wall_s']:6.1f} s wall, {case['cpu_s']:6.1f} s CPU, "
            f"peak RSS {case['peak_rss_mb']:.0f} MB, {case['stacks']} stacks, {case['resources']} resources"
        )
    ratio = large["wall_s"] / default["wall_s"]
    print(f"default under 30 s: {'yes' if default['wall_s'] < 30 else 'NO'} ({default['wall_s']} s)")
    print(f"{args.models} models under 3x default: {'yes' if ratio < 3 else 'NO'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
