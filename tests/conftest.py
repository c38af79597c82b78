"""Fixtures shared by the whole suite.

Building a CDK app starts a jsii kernel (a Node process) and takes seconds, so the default
platform is synthesized once per test session and shared by every test that reads it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# jsii runs the first `node` on PATH: make it the virtualenv's Node 24 even when pytest is
# started without the Makefile.
_VENV_BIN = Path(os.sys.executable).parent
if (_VENV_BIN / "node").exists() and not os.environ.get("PATH", "").startswith(str(_VENV_BIN)):
    os.environ["PATH"] = f"{_VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

# The same Node settings as app.py (before any test module imports aws_cdk).
from stacks.jsii_node import configure_jsii_node  # noqa: E402

configure_jsii_node()


def cdk_json_context(extra: Mapping[str, Any]) -> dict[str, Any]:
    """cdk.json's context (the feature flags `cdk synth` runs with) plus `extra`."""
    return {**json.loads((REPO_ROOT / "cdk.json").read_text())["context"], **extra}


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def default_config():  # type: ignore[no-untyped-def]
    from stacks.config import load_config

    return load_config(REPO_ROOT / "config" / "default.yaml")


@pytest.fixture(scope="session")
def synthesized_platform(default_config, tmp_path_factory) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """The default platform synthesized with cdk-nag on and cdk.json's feature flags, as
    `cdk synth` does (bundling skipped); yields the cdk.out path."""
    from stacks.app_builder import SKIP_BUNDLING, build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, _ = build_app(default_config, outdir=str(outdir), nag=True, context=cdk_json_context(SKIP_BUNDLING))
    app.synth()
    yield outdir


@pytest.fixture(scope="session")
def platform_stacks(synthesized_platform):  # type: ignore[no-untyped-def]
    from mlplatform.cloud_assembly import read_stacks

    return {s.display_name: s for s in read_stacks(synthesized_platform)}
