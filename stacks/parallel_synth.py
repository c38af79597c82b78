"""Synthesizing a large platform in parallel processes, one share of the shard stacks each.

jsii runs one Node process per Python process and every construct call is a round trip to
it, so one synth uses one core however many shards there are. Shard stacks only refer to
each other and to the unsharded stacks by name, so they can be built apart: this process
builds share 0 and starts a worker process (`python -m stacks.parallel_synth`) for each
other share; the workers' cloud assemblies are then merged into this one's
(`stacks.assembly_merge`), which also checks the stacks every worker builds came out equal.

Small configs synthesize in one process: a worker costs a jsii start-up and a second build of
the unsharded stacks, which only pays off once there are many shards.

This module does not import aws_cdk (`stacks.app_builder` is imported where it is used): the
workers are started first, so that their jsii start-up overlaps this process's own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stacks.app_command import python_options
from stacks.assembly_merge import merge_assemblies
from stacks.config.loader import parse_config
from stacks.config.models import PlatformConfig
from stacks.stack_layout import SynthPart, shards, stack_ids

#: Context key that sets the number of synth processes (1 turns parallel synthesis off).
WORKERS_CONTEXT = "synth-workers"
#: Below this many models one process is faster: see the module docstring.
PARALLEL_MIN_MODELS = 20
#: More processes than this add start-up and memory (about 0.7 GB each) for little gain.
MAX_WORKERS = 4


class SynthWorkerError(Exception):
    """A synth worker process failed; its own error output has already been printed."""


class StackTooLargeError(Exception):
    """A stack would hold more resources than CloudFormation allows: its shards are too big."""


_TOO_MANY = re.compile(r"TooManyResourcesInStack: Number of resources in stack '([^']+)': (\d+)")
_SHARD_SETTING = {
    "Serving": "models_per_serving_stack",
    "Training": "models_per_training_stack",
    "Monitoring": "models_per_monitoring_stack",
}


def _synth(app: Any) -> Path:
    """`app.synth()`, with CDK's resource-count failure turned into a line that names the fix."""
    try:
        return Path(app.synth().directory)
    except RuntimeError as error:
        found = _TOO_MANY.search(str(error))
        if not found:
            raise
        stack, count = found.group(1), found.group(2)
        kind = stack.rsplit("/", 1)[-1].split("-", 1)[0]
        setting = _SHARD_SETTING.get(kind)
        fix = f"lower sharding.{setting} in the config" if setting else "split the stack"
        raise StackTooLargeError(
            f"stack {stack} would hold {count} resources, more than CloudFormation's 500: {fix} "
            "(models with many variants need smaller shards)"
        ) from None


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_workers(value: object) -> int | None:
    """The `synth-workers` context value as a process count; None when it is not set."""
    if value is None:
        return None
    try:
        return _checked(int(str(value)))
    except ValueError:
        raise ValueError(f"{WORKERS_CONTEXT}: {value!r} is not a whole number of processes") from None


def _checked(requested: int) -> int:
    if requested < 1:
        raise ValueError(f"{WORKERS_CONTEXT}: {requested} must be at least 1")
    return requested


def worker_count(config: PlatformConfig, requested: int | None = None, cores: int | None = None) -> int:
    """How many processes synthesize `config`: `requested` if given, else one per core when large."""
    shard_count = len(shards(config))
    if requested is not None:
        return max(1, min(_checked(requested), shard_count))
    if len(config.models) < PARALLEL_MIN_MODELS:
        return 1
    return max(1, min(cores or available_cores(), MAX_WORKERS, shard_count))


def synthesize(
    config: PlatformConfig,
    *,
    outdir: str | None = None,
    nag: bool = True,
    context: Mapping[str, Any] | None = None,
    workers: int | None = None,
) -> Path:
    """Synthesize the whole platform into one cloud assembly and return its directory."""
    count = worker_count(config, workers)
    if count == 1:
        from stacks.app_builder import build_app

        app, _ = build_app(config, outdir=outdir, nag=nag, context=context)
        return _synth(app)

    scratch = Path(tempfile.mkdtemp(prefix="mlplatform-synth-"))
    try:
        job = scratch / "job.json"
        job.write_text(
            json.dumps(
                {"config": config.model_dump(mode="json"), "context": dict(context or {}), "nag": nag}
            ),
            encoding="utf-8",
        )
        parts = [scratch / f"part-{index}" for index in range(1, count)]
        processes = [
            subprocess.Popen(worker_command(job, SynthPart(index, count), part))
            for index, part in enumerate(parts, start=1)
        ]
        try:
            # Imported only now: importing aws_cdk starts this process's jsii Node.
            from stacks.app_builder import build_app

            app, _ = build_app(config, outdir=outdir, nag=nag, context=context, part=SynthPart(0, count))
            target = _synth(app)
        except BaseException:
            for process in processes:
                process.kill()
                process.wait()
            raise
        failed = [index for index, process in enumerate(processes, start=1) if process.wait() != 0]
        if failed:
            raise SynthWorkerError(f"synth worker(s) {failed} of {count} failed: see their errors above")
        order = [f"{env.name}/{stack}" for env in config.environments for stack in stack_ids(config)]
        merge_assemblies(target, parts, order)
        return target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def worker_command(job: Path, part: SynthPart, outdir: Path) -> list[str]:
    """The command line of the worker process that synthesizes `part` into `outdir`; it runs
    with this process's optimization level (`stacks.app_command`)."""
    return [
        sys.executable,
        *python_options(),
        "-m",
        "stacks.parallel_synth",
        str(job),
        str(part.index),
        str(part.count),
        str(outdir),
    ]


def _run_worker(job_path: str, index: str, count: str, outdir: str) -> int:
    from stacks.app_builder import build_app

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    config = parse_config(job["config"], source=job_path)
    app, _ = build_app(
        config,
        outdir=outdir,
        nag=job["nag"],
        context=job["context"],
        part=SynthPart(int(index), int(count)),
    )
    try:
        _synth(app)
    except StackTooLargeError as error:
        print(f"synth error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print("usage: python -m stacks.parallel_synth JOB_JSON INDEX COUNT OUTDIR", file=sys.stderr)
        sys.exit(2)
    status = _run_worker(*sys.argv[1:])
    # The assembly is on disk: skip the orderly jsii shutdown (about half a second, on the path
    # to the merge). Its Node process exits by itself once our end of its pipe closes.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
