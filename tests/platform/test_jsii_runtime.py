"""jsii's kernel run without its relay process (stacks/jsii_runtime.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import stacks.jsii_runtime as jsii_runtime
from stacks.jsii_node import node_binary
from stacks.jsii_runtime import RUNTIME_SHIM, configure_jsii_runtime

REPO = Path(__file__).resolve().parents[2]

# Stands in for jsii's lib/program.js: one request on the API channel, console output of
# every kind, one response.
FAKE_KERNEL = """
const fs = require('fs');
const buffer = Buffer.alloc(100);
const read = fs.readSync(3, buffer, 0, 100, null);
console.warn('[WARNING]', 'warned');
console.log('logged');
process.stderr.write('written\\n');
fs.writeSync(2, 'raw\\n');
fs.writeSync(3, Buffer.from('pong:' + buffer.subarray(0, read).toString()));
"""


def _decoded(stderr: str) -> list[tuple[str, str]]:
    lines = [json.loads(line) for line in stderr.splitlines()]
    return [(name, base64.b64decode(data).decode()) for line in lines for name, data in line.items()]


def test_the_api_channel_runs_on_stdin_and_stdout_and_console_output_is_relayed_as_json(
    tmp_path: Path,
) -> None:
    node = node_binary()
    assert node is not None
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "bin" / "jsii-runtime.js").write_text(RUNTIME_SHIM)
    (tmp_path / "lib" / "program.js").write_text(FAKE_KERNEL)
    result = subprocess.run(
        [str(node), str(tmp_path / "bin" / "jsii-runtime.js")],
        input="ping\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "pong:ping\n"
    assert _decoded(result.stderr) == [
        ("stderr", "[WARNING] warned\n"),
        ("stdout", "logged\n"),
        ("stderr", "written\n"),
        ("stderr", "raw\n"),
    ]


def test_console_output_of_aws_cdk_lib_reaches_python(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JSII_RUNTIME", "JSII_NODE")}
    env["JSII_DEPRECATED"] = "warn"
    script = (
        "import os, pathlib\n"
        "from stacks.jsii_node import configure_jsii_node\n"
        f"configure_jsii_node(directory=pathlib.Path({str(tmp_path)!r}))\n"
        "print(os.environ['JSII_RUNTIME'])\n"
        "import aws_cdk as cdk\n"
        "cdk.SecretValue.plain_text('x')  # deprecated: aws-cdk-lib warns on the console\n"
        "print(cdk.App().node.path == '')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    runtime, answer = result.stdout.split()
    assert runtime.startswith(str(tmp_path)) and runtime.endswith("bin/jsii-runtime.js")
    assert answer == "True"
    assert "[WARNING] aws-cdk-lib.SecretValue#plainText is deprecated" in result.stderr


def test_a_kernel_the_shim_does_not_know_keeps_jsiis_relay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsii_runtime, "kernel_files", lambda: {"lib/program.js": b"readFD:4,writeFD:4"})
    environ: dict[str, str] = {}
    assert configure_jsii_runtime(environ, tmp_path) is None
    assert environ == {} and list(tmp_path.iterdir()) == []


# Fakes of lib/program.js that open the channel as jsii's does (API_CHANNEL is in the text).
GREETING_KERNEL = """// readFD:3,writeFD:3
const fs = require('fs');
fs.writeSync(3, Buffer.from(JSON.stringify({ hello: '@jsii/runtime@1.0.0' }) + '\\n'));
fs.readSync(3, Buffer.alloc(100), 0, 100, null);
"""
SILENT_KERNEL = "// readFD:3,writeFD:3\nprocess.exit(3);\n"


@pytest.mark.parametrize(("program", "used"), [(GREETING_KERNEL, True), (SILENT_KERNEL, False)])
def test_the_shim_is_used_only_with_a_kernel_that_starts_under_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: str, used: bool
) -> None:
    monkeypatch.setattr(jsii_runtime, "kernel_files", lambda: {"lib/program.js": program.encode()})
    node = node_binary()
    assert node is not None
    environ = {"JSII_NODE": str(node)}
    entry = configure_jsii_runtime(environ, tmp_path)
    if used:
        assert entry is not None and environ["JSII_RUNTIME"] == str(entry)
        assert [p.name for p in tmp_path.iterdir()] == [entry.parent.parent.name]
    else:
        assert entry is None and "JSII_RUNTIME" not in environ
        assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_a_set_jsii_runtime_wins_and_a_second_call_reuses_the_copy(tmp_path: Path) -> None:
    chosen = {"JSII_RUNTIME": "/opt/jsii/bin/jsii-runtime.js"}
    assert configure_jsii_runtime(chosen, tmp_path) is None
    assert chosen == {"JSII_RUNTIME": "/opt/jsii/bin/jsii-runtime.js"}
    first = configure_jsii_runtime({"JSII_NODE": str(node_binary())}, tmp_path)
    assert first is not None and (first.parent.parent / "lib" / "program.js").is_file()
    written = first.stat().st_mtime_ns
    assert configure_jsii_runtime({"JSII_NODE": "/no/node/needed/for/a/copy/in/place"}, tmp_path) == first
    assert first.stat().st_mtime_ns == written
    assert [p.name for p in tmp_path.iterdir()] == [first.parent.parent.name]  # no scratch left behind


def test_the_installed_kernel_is_one_the_shim_knows() -> None:
    # If a jsii upgrade changes how the kernel opens its channel, synth falls back to jsii's
    # relay (slower); this test says so.
    files = jsii_runtime.kernel_files()
    assert files is not None and jsii_runtime.shim_usable(files)


def test_the_suite_runs_through_the_shim() -> None:
    if not os.environ.get("JSII_NODE", "").endswith("/jsii-node"):
        pytest.skip("JSII_NODE was set before the session: jsii runs as you chose")
    assert os.environ.get("JSII_RUNTIME", "").endswith("bin/jsii-runtime.js")
