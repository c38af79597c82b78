"""The code base stays ruff- and mypy-clean (the same checks as `make lint`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)


def test_ruff_finds_nothing_and_formatting_is_settled() -> None:
    check = _run(str(BIN / "ruff"), "check", ".")
    assert check.returncode == 0, check.stdout[-3000:]
    fmt = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout[-3000:]


def test_mypy_finds_no_type_errors() -> None:
    result = _run(str(BIN / "mypy"), "app.py", "stacks", "constructs_lib", "lambdas", "mlplatform")
    assert result.returncode == 0, result.stdout[-3000:]
