"""Reading a synthesized cloud assembly (`cdk.out`): stacks, templates and acknowledgements.

Stages write nested assemblies (`assembly-<stage>/`); this walks them through the manifests
so every caller sees the same list of stacks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdas.common.errors import InputError

ACK_METADATA_TYPE = "aws:cdk:acknowledged-rules"
NAG_PREFIX = "Annotation::AwsSolutions-"


@dataclass(frozen=True)
class SynthesizedStack:
    name: str  # the CloudFormation stack name
    display_name: str  # e.g. dev/Foundation
    region: str | None
    template: dict[str, Any]
    metadata: dict[str, list[dict[str, Any]]]

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


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError.single(str(path), f"not a readable cloud assembly file: {error}") from None


def read_stacks(cdk_out: str | Path) -> list[SynthesizedStack]:
    root = Path(cdk_out)
    manifest = root / "manifest.json"
    if not manifest.is_file():
        raise InputError.single(
            str(root), "no manifest.json: not a synthesized cloud assembly (run `make synth`)"
        )
    return list(_walk(root))


def _walk(directory: Path) -> Iterator[SynthesizedStack]:
    manifest = _load_json(directory / "manifest.json")
    for artifact in manifest.get("artifacts", {}).values():
        kind = artifact.get("type")
        props = artifact.get("properties", {})
        if kind == "cdk:cloud-assembly":
            yield from _walk(directory / props["directoryName"])
        elif kind == "aws:cloudformation:stack":
            template = _load_json(directory / props["templateFile"])
            metadata_file = (
                directory / f"{Path(props['templateFile']).name.removesuffix('.template.json')}.metadata.json"
            )
            metadata = _load_json(metadata_file) if metadata_file.is_file() else artifact.get("metadata", {})
            environment = artifact.get("environment", "")
            yield SynthesizedStack(
                name=props.get("stackName") or artifact.get("displayName", ""),
                display_name=artifact.get("displayName", props.get("stackName", "")),
                region=environment.rsplit("/", 1)[-1] if environment else None,
                template=template,
                metadata=metadata,
            )


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
