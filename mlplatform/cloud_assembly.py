"""Reading a synthesized cloud assembly (`cdk.out`): stacks, templates and acknowledgements.

Stack discovery (nested Stage assemblies, regions, template checks) is the cost estimator's
reader, `lambdas.cost.assembly`; this adds each stack's construct metadata, where CDK
records the cdk-nag acknowledgements.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdas.common.errors import InputError
from lambdas.cost.assembly import read_assembly

ACK_METADATA_TYPE = "aws:cdk:acknowledged-rules"
NAG_PREFIX = "Annotation::AwsSolutions-"


@dataclass(frozen=True)
class SynthesizedStack:
    display_name: str  # e.g. dev/Foundation
    region: str
    template: Mapping[str, Any] = field(repr=False)
    metadata: Mapping[str, list[dict[str, Any]]] = field(repr=False)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.template.get("Resources", {}))


@dataclass(frozen=True)
class Acknowledgement:
    stack: str
    path: str
    rule: str  # e.g. AwsSolutions-IAM5[Resource::*]
    reason: str

    @property
    def base_rule(self) -> str:
        return self.rule.split("[", 1)[0]


def read_stacks(cdk_out: str | Path) -> list[SynthesizedStack]:
    root = Path(cdk_out)
    if not (root / "manifest.json").is_file():
        raise InputError.single(
            str(root), "no manifest.json: not a synthesized cloud assembly (run `make synth`)"
        )
    return [
        SynthesizedStack(stack.name, stack.region, stack.template, _metadata(stack.path))
        for stack in read_assembly(root)
    ]


def _metadata(template_path: Path) -> dict[str, list[dict[str, Any]]]:
    path = template_path.with_name(template_path.name.removesuffix(".template.json") + ".metadata.json")
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError.single(str(path), f"not a readable cloud assembly file: {error}") from None


def nag_acknowledgements(stacks: list[SynthesizedStack]) -> list[Acknowledgement]:
    found: dict[tuple[str, str], Acknowledgement] = {}
    for stack in stacks:
        for path, entries in stack.metadata.items():
            for entry in entries:
                if entry.get("type") != ACK_METADATA_TYPE:
                    continue
                for key, reason in entry.get("data", {}).items():
                    if key.startswith(NAG_PREFIX):
                        rule = key.removeprefix("Annotation::")
                        found[(path, rule)] = Acknowledgement(stack.display_name, path, rule, str(reason))
    return sorted(found.values(), key=lambda a: (a.base_rule, a.path, a.rule))
