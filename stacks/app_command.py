"""How `cdk synth` runs the app: cdk.json's "app" command, and the Python options in it.

cdk.json runs app.py with ``python -O``. Optimized mode skips the argument checks that
jsii-generated bindings run in Python (typeguard, on every construct, method and property
call) and nothing else we rely on: the jsii kernel validates every value it receives and
names the field on a mistake, so a wrong type still fails synth. It cut the build of a
50-model share by about 18 % (bench/synth.py). The test suite runs without ``-O``, so the
Python-side checks still run over every construct in CI.

The parallel synth workers run with this process's options (`python_options`), and the
synth bench runs its cases with the options of cdk.json's command (`cdk_app_python_options`),
so that it measures what `cdk synth` runs.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def python_options(optimize: int | None = None) -> list[str]:
    """The interpreter options that reproduce this process's optimization level (``-O``, ``-OO``)."""
    level = sys.flags.optimize if optimize is None else optimize
    return ["-" + "O" * level] if level > 0 else []


def cdk_app_command(cdk_json: Path = CDK_JSON) -> list[str]:
    """cdk.json's "app" command, split as a shell would."""
    return shlex.split(json.loads(cdk_json.read_text(encoding="utf-8"))["app"])


#: Python options whose value is the next argument (``-X importtime``, ``-W error``).
_OPTIONS_WITH_VALUE = frozenset({"-X", "-W", "--check-hash-based-pycs"})


def cdk_app_python_options(cdk_json: Path = CDK_JSON) -> list[str]:
    """The options cdk.json's command passes to Python before the script (e.g. ``["-O"]``)."""
    arguments = cdk_app_command(cdk_json)[1:]
    options: list[str] = []
    while arguments and arguments[0].startswith("-"):
        option = arguments.pop(0)
        options.append(option)
        if option in _OPTIONS_WITH_VALUE and arguments:
            options.append(arguments.pop(0))
    return options
