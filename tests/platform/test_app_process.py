"""app.py as CI and platform teams run it: as a process, without credentials or a config that works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.app_command import cdk_app_python_options

pytestmark = pytest.mark.synth
REPO = Path(__file__).resolve().parents[2]


def _run_app(tmp_path: Path, context: dict[str, object]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path / "home")  # no ~/.aws
    env["CDK_OUTDIR"] = str(tmp_path / "out")
    env["CDK_CONTEXT_JSON"] = json.dumps({"aws:cdk:bundling-stacks": [], **context})
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run(
        # As cdk.json runs it (with -O), with this interpreter.
        [sys.executable, *cdk_app_python_options(), "app.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_synth_needs_no_aws_credentials_or_lookups(tmp_path: Path) -> None:
    result = _run_app(tmp_path, {"config": "config/default.yaml"})
    assert result.returncode == 0, result.stderr[-3000:]
    templates = list((tmp_path / "out").rglob("*.template.json"))
    assert templates
    assert not (REPO / "cdk.context.json").exists() or "lookup" not in (REPO / "cdk.context.json").read_text()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "missing" not in manifest, "synth asked for a context lookup"


def test_bad_config_exits_non_zero_with_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (REPO / "config" / "default.yaml").read_text()
    text = text.replace("instance_type: ml.m5.large", "instance_type: ml.m5.huge", 1)
    bad.write_text(
        text.replace("  - name: fraud-detector\n", "  - name: fraud-detector\n    colour: red\n", 1)
    )
    result = _run_app(tmp_path, {"config": str(bad)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("config error:")]
    assert (
        f"config error: {bad}: models[0].colour: unknown key (check the spelling; see docs/configuration.md)"
        in lines
    )
    assert any(
        f"{bad}: models[0].serving.variants[0].instance_type: unknown SageMaker instance type" in line
        for line in lines
    )


def test_cdk_cli_from_package_json_lists_every_stack() -> None:
    """`npx cdk ls` with the pinned CLI and the virtualenv's Node (what `make` puts first on PATH)."""
    bin_dir = Path(sys.executable).parent
    npx = bin_dir / "npx"
    if not (REPO / "node_modules" / ".bin" / "cdk").exists() or not npx.exists():
        pytest.fail("the CDK CLI is not installed: run `make test`, which runs `npm ci` first")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(npx), "cdk", "ls"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {
        "dev/Foundation",
        "dev/FeatureStore",
        "dev/Serving-1",
        "dev/Training-1",
        "dev/Monitoring-1",
    } <= listed


def test_a_bad_synth_workers_value_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    result = _run_app(tmp_path, {"config": "config/default.yaml", "synth-workers": "many"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "context error: synth-workers: 'many' is not a whole number of processes" in result.stderr
