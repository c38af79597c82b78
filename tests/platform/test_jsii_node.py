"""The launcher that runs jsii's Node single-threaded (stacks/jsii_node.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stacks.jsii_node import NODE_FLAGS, configure_jsii_node


def test_the_launcher_starts_the_projects_node_with_the_flags(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    launcher = configure_jsii_node(environ, directory=tmp_path)
    assert launcher is not None and environ["JSII_NODE"] == str(launcher)
    assert os.access(launcher, os.X_OK)
    probe = tmp_path / "probe.js"
    probe.write_text("console.log(JSON.stringify([process.version, process.execArgv]))")
    out = subprocess.run(
        [str(launcher), str(probe)],
        capture_output=True,
        text=True,
        check=True,
    )
    version, flags = json.loads(out.stdout)
    assert version.startswith("v24.")
    assert flags == list(NODE_FLAGS)


def test_a_second_call_keeps_the_launcher_and_a_set_jsii_node_wins(tmp_path: Path) -> None:
    first = configure_jsii_node({}, directory=tmp_path)
    assert first is not None
    written = first.stat().st_mtime_ns
    assert configure_jsii_node({}, directory=tmp_path) == first
    assert first.stat().st_mtime_ns == written
    names = sorted(p.name for p in tmp_path.iterdir())
    assert (
        names[0] == "jsii-node" and names[1].startswith("jsii-runtime-") and len(names) == 2
    )  # no scratch left
    chosen = {"JSII_NODE": "/opt/node/bin/node"}
    assert configure_jsii_node(chosen, directory=tmp_path) is None
    assert chosen == {"JSII_NODE": "/opt/node/bin/node"}


def test_a_place_it_cannot_write_leaves_jsii_on_node_from_path(tmp_path: Path) -> None:
    # A file where the directory should be fails the write even for root (CI runs as root).
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    environ: dict[str, str] = {}
    assert configure_jsii_node(environ, directory=blocked) is None
    assert environ == {}


def test_a_missing_directory_leaves_jsii_on_node_from_path(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    assert configure_jsii_node(environ, directory=tmp_path / "missing") is None
    assert environ == {}


def test_outside_a_virtualenv_nothing_is_written(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.base_prefix", sys.prefix)
    environ: dict[str, str] = {}
    assert configure_jsii_node(environ) is None
    assert environ == {}
