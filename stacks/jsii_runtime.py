"""jsii's kernel without its stdio relay: one Node process per synth instead of two.

jsii's Python runtime starts ``$JSII_RUNTIME`` (default: its embedded ``bin/jsii-runtime.js``).
That script only relays: it spawns a second Node running the kernel (``lib/program.js``),
with the API channel on the child's file descriptor 3, and copies every request and
response between that descriptor and its own stdin and stdout; the child's console output
goes to the Python side as JSON lines on stderr. Each construct call therefore crosses two
pipes and two processes each way. In a 50-model share of a synth the relay alone used 2.2 s
of CPU, and the share's build took 10.8 s instead of 8.6 s without it (bench/synth.py).

`RUNTIME_SHIM` is a replacement entry point that runs the same kernel in its own process:
the kernel's reads and writes of descriptor 3 go to stdin and stdout, and console output
(``process.stdout``/``process.stderr`` and raw writes to descriptors 1 and 2) becomes the
relay's JSON lines, so the Python side sees exactly what it saw before.

The shim depends on how the kernel opens its channel. `configure_jsii_runtime` copies the
kernel from the installed jsii package and uses the shim only if the kernel still opens the
channel as `API_CHANNEL` says and, started under the shim, greets and exits as jsii's kernel
does (tried once per kernel, when it is copied); otherwise it leaves jsii's own relay in place.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

RUNTIME_ENV = "JSII_RUNTIME"
#: How jsii's kernel host (lib/program.js) opens its API channel; checked before the shim is used.
API_CHANNEL = b"readFD:3,writeFD:3"
#: Node flags the relay gives the kernel's process; the launcher of stacks/jsii_node.py passes them.
KERNEL_NODE_FLAGS = ("--preserve-symlinks",)

RUNTIME_SHIM = r"""'use strict';
// jsii's kernel host in this process, its API channel on stdin and stdout (stacks/jsii_runtime.py).
const fs = require('fs');
const path = require('path');
const { Writable } = require('stream');

const API_FD = 3;
const { readSync, writeSync } = fs;

// Console output reaches the Python side as jsii's relay sends it: JSON lines on stderr.
function emit(name, bytes) {
  const line = Buffer.from(JSON.stringify({ [name]: bytes.toString('base64') }) + '\n');
  for (let done = 0; done < line.length; ) done += writeSync(2, line, done, line.length - done);
}

function bytesOf(data, offsetOrPosition, lengthOrEncoding) {
  if (typeof data === 'string') {
    return Buffer.from(data, typeof lengthOrEncoding === 'string' ? lengthOrEncoding : 'utf8');
  }
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const offset = typeof offsetOrPosition === 'number' ? offsetOrPosition : 0;
  const length = typeof lengthOrEncoding === 'number' ? lengthOrEncoding : view.length - offset;
  return view.subarray(offset, offset + length);
}

fs.readSync = function (fd, ...rest) {
  return readSync(fd === API_FD ? 0 : fd, ...rest);
};
fs.writeSync = function (fd, data, ...rest) {
  if (fd === API_FD) return writeSync(1, data, ...rest);
  if (fd === 1 || fd === 2) {
    const bytes = bytesOf(data, rest[0], rest[1]);
    emit(fd === 1 ? 'stdout' : 'stderr', bytes);
    return bytes.length;
  }
  return writeSync(fd, data, ...rest);
};

// Defined before anything reads them, so that Node never opens descriptors 1 and 2 as
// streams of its own: descriptor 1 carries the API channel.
for (const name of ['stdout', 'stderr']) {
  const stream = new Writable({
    write(chunk, encoding, callback) {
      emit(name, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
      callback();
    },
  });
  stream.isTTY = false;
  Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => stream });
}

require(path.join(__dirname, '..', 'lib', 'program.js'));
"""


def kernel_files() -> dict[str, bytes] | None:
    """The kernel's files (``lib/program.js`` and its siblings) from the installed jsii package,
    read without importing it; None when jsii is not installed or its layout is unknown."""
    spec = importlib.util.find_spec("jsii")
    if spec is None or not spec.submodule_search_locations:
        return None
    embedded = Path(next(iter(spec.submodule_search_locations))) / "_embedded" / "jsii"
    try:
        # jsii ships "lib/program.js" as "lib__program.js" (its EMBEDDED_FILES mapping).
        return {
            "lib/" + entry.name.removeprefix("lib__"): entry.read_bytes()
            for entry in sorted(embedded.glob("lib__*"))
        }
    except OSError:
        return None


def shim_usable(files: Mapping[str, bytes]) -> bool:
    return API_CHANNEL in files.get("lib/program.js", b"")


def configure_jsii_runtime(
    environ: MutableMapping[str, str] | None = None, directory: Path | None = None
) -> Path | None:
    """Point jsii at `RUNTIME_SHIM` next to a copy of the installed kernel (kept under
    `directory`, default the virtualenv's ``share/mlplatform``). Returns the entry point, or
    None when nothing was changed: JSII_RUNTIME already set, not in a virtualenv, not POSIX,
    a kernel the shim does not know, or a place it cannot write."""
    env = os.environ if environ is None else environ
    if env.get(RUNTIME_ENV) or os.name != "posix":
        return None
    if directory is None and sys.prefix == sys.base_prefix:
        return None  # not in a virtualenv: never write outside the project
    files = kernel_files()
    if not files or not shim_usable(files):
        return None
    digest = hashlib.sha256(RUNTIME_SHIM.encode())
    for name, content in files.items():
        digest.update(name.encode() + b"\0" + content)
    folder = directory or Path(sys.prefix) / "share" / "mlplatform"
    root = folder / f"jsii-runtime-{digest.hexdigest()[:16]}"
    entry = root / "bin" / "jsii-runtime.js"
    files = {**files, ENTRY: RUNTIME_SHIM.encode()}
    if not entry.is_file() and not _write(root, files, env.get("JSII_NODE") or "node"):
        return None
    env[RUNTIME_ENV] = str(entry)
    return entry


ENTRY = "bin/jsii-runtime.js"


def handshakes(entry: Path, node: str) -> bool:
    """Whether the kernel started from `entry` greets as jsii's does and exits when told to."""
    try:
        result = subprocess.run(
            [node, str(entry)], input=b'{"exit":0}\n', capture_output=True, timeout=60, check=False
        )
        greeting = json.loads(result.stdout.split(b"\n", 1)[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return False
    return (
        result.returncode == 0
        and isinstance(greeting, dict)
        and str(greeting.get("hello", "")).startswith("@jsii/runtime@")
    )


def _write(root: Path, files: Mapping[str, bytes], node: str) -> bool:
    # Written aside, tried once, and renamed: tests and synth workers may get here at the same
    # time. A kernel that does not start under the shim is never put in place.
    scratch = root.parent / f".{root.name}.{os.getpid()}"
    try:
        for name, content in files.items():
            target = scratch / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if not handshakes(scratch / ENTRY, node):
            shutil.rmtree(scratch, ignore_errors=True)
            return False
        os.rename(scratch, root)
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)
        # Another process may have renamed its copy into place first.
        return (root / ENTRY).is_file()
    return True
