"""The example is built as an external product team would build it: public platform modules
only, no private names, and no knowledge of the platform's config file or stacks."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests.fraud_detection.conftest import EXAMPLE_DIR

THIRD_PARTY = {
    "aws_cdk",
    "constructs",
    "cdk_nag",
    "jsii",
    "boto3",
    "botocore",
    "aws_lambda_powertools",
    "pydantic",
    "numpy",
    "scipy",
    "sklearn",
    "joblib",
    "threadpoolctl",
}
PLATFORM = {"lambdas", "constructs_lib"}


def _imports() -> list[tuple[Path, str, list[str]]]:
    found: list[tuple[Path, str, list[str]]] = []
    for path in [EXAMPLE_DIR / "app.py", *sorted((EXAMPLE_DIR / "fraud_service").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path, alias.name, []) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module, [alias.name for alias in node.names]))
    return found


def test_example_imports_only_the_platform_public_modules_and_its_own_package() -> None:
    allowed = THIRD_PARTY | PLATFORM | {"fraud_service", "__future__"} | set(sys.stdlib_module_names)
    outside = sorted({f"{p.name}: {m}" for p, m, _ in _imports() if m.split(".")[0] not in allowed})
    assert outside == []


def test_example_uses_no_private_platform_names_and_no_platform_config() -> None:
    platform = [(p, m, names) for p, m, names in _imports() if m.split(".")[0] in PLATFORM]
    private = [f"{p.name}: {m}.{n}" for p, m, names in platform for n in names if n.startswith("_")]
    private += [
        f"{p.name}: {m}" for p, m, _ in platform if any(part.startswith("_") for part in m.split("."))
    ]
    assert private == []
    sources = "\n".join(p.read_text() for p in EXAMPLE_DIR.rglob("*.py"))
    assert "stacks" not in {m.split(".")[0] for _, m, _ in _imports()}
    assert "default.yaml" not in sources and "PlatformConfig" not in sources
