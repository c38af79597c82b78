"""`cdk synth` runs the app optimized, and everything that stands in for it does the same."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from stacks.app_command import cdk_app_command, cdk_app_python_options, python_options
from stacks.parallel_synth import worker_command
from stacks.stack_layout import SynthPart


@pytest.mark.parametrize(("level", "options"), [(0, []), (1, ["-O"]), (2, ["-OO"])])
def test_python_options_reproduce_the_optimization_level(level: int, options: list[str]) -> None:
    assert python_options(level) == options


def test_cdk_json_runs_the_app_optimized() -> None:
    command = cdk_app_command()
    assert command[-1] == "app.py"
    assert cdk_app_python_options() == ["-O"]


@pytest.mark.parametrize(
    ("app", "options"),
    [
        ("python app.py", []),
        (".venv/bin/python -O -X importtime app.py", ["-O", "-X", "importtime"]),
        ("python -OO -W error -Ximporttime app.py", ["-OO", "-W", "error", "-Ximporttime"]),
    ],
)
def test_the_options_are_those_before_the_script(tmp_path: Path, app: str, options: list[str]) -> None:
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"app": app}))
    assert cdk_app_python_options(cdk_json) == options


def test_synth_workers_run_with_the_parents_optimization_level(tmp_path: Path) -> None:
    command = worker_command(tmp_path / "job.json", SynthPart(1, 2), tmp_path / "part-1")
    assert command[0] == sys.executable
    assert command[1 : 1 + len(python_options())] == python_options()
    assert command[1 + len(python_options()) : 3 + len(python_options())] == ["-m", "stacks.parallel_synth"]


def test_setup_compiled_the_optimized_bytecode_of_aws_cdk_lib() -> None:
    # Without it every optimized synth compiles aws-cdk-lib's bindings first (about 5 s more).
    spec = importlib.util.find_spec("aws_cdk")
    assert spec is not None and spec.origin is not None
    assert Path(importlib.util.cache_from_source(spec.origin, optimization=1)).is_file()
