"""Find the CloudFormation templates of a cloud assembly (cdk.out) and the region of each.

The manifest says which artifacts are stacks, where their template is and which
environment they target; Stages appear as nested assemblies (cdk.out/assembly-*/) with
their own manifest. Templates that no manifest mentions are still read (a hand-made
directory, or a cdk.out from an older CLI), with their region unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdas.common.errors import InputError

UNKNOWN_REGION = "unknown-region"


@dataclass(frozen=True)
class StackTemplate:
    """One synthesized stack: its display name, target region and parsed template."""

    name: str
    region: str
    path: Path
    template: Mapping[str, Any] = field(repr=False)

    @property
    def resources(self) -> Mapping[str, Any]:
        resources = self.template.get("Resources", {})
        return resources if isinstance(resources, Mapping) else {}


def read_assembly(root: Path | str) -> list[StackTemplate]:
    """Every stack template under a cdk.out directory (or one template file), sorted by name."""
    path = Path(root)
    if path.is_file():
        return [
            _load_template(
                path, path.name.removesuffix(".template.json").removesuffix(".json"), UNKNOWN_REGION
            )
        ]
    if not path.is_dir():
        raise InputError.single(str(path), "no such cloud assembly directory or template file")
    stacks: dict[Path, StackTemplate] = {}
    for template_path, name, region in _manifest_stacks(path):
        stacks[template_path.resolve()] = _load_template(template_path, name, region)
    for template_path in sorted(path.rglob("*.template.json")):
        if template_path.resolve() in stacks or template_path.name.endswith(".nested.template.json"):
            continue
        name = template_path.name.removesuffix(".template.json")
        stacks[template_path.resolve()] = _load_template(template_path, name, UNKNOWN_REGION)
    if not stacks:
        raise InputError.single(str(path), "no *.template.json found: is this a cdk.out directory?")
    return sorted(stacks.values(), key=lambda s: s.name)


def _manifest_stacks(directory: Path) -> Iterator[tuple[Path, str, str]]:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        return
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError.single(str(manifest_path), f"unreadable cloud assembly manifest ({exc})") from exc
    artifacts = manifest.get("artifacts", {}) if isinstance(manifest, Mapping) else {}
    for artifact_id, artifact in artifacts.items():
        if not isinstance(artifact, Mapping):
            continue
        properties = artifact.get("properties", {}) or {}
        kind = artifact.get("type")
        if kind == "aws:cloudformation:stack" and "templateFile" in properties:
            name = str(artifact.get("displayName") or properties.get("stackName") or artifact_id)
            yield directory / str(properties["templateFile"]), name, _region_of(artifact.get("environment"))
        elif kind == "cdk:cloud-assembly" and "directoryName" in properties:
            nested = directory / str(properties["directoryName"])
            if nested.is_dir():
                yield from _manifest_stacks(nested)


def _region_of(environment: Any) -> str:
    # "aws://123456789012/eu-west-1"; env-agnostic stacks say "unknown-region".
    if isinstance(environment, str) and environment.startswith("aws://"):
        parts = environment[len("aws://") :].split("/")
        if len(parts) == 2 and parts[1]:
            return parts[1]
    return UNKNOWN_REGION


def _load_template(path: Path, name: str, region: str) -> StackTemplate:
    try:
        template = json.loads(path.read_text())
    except OSError as exc:
        raise InputError.single(str(path), f"cannot read template ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise InputError.single(
            str(path), f"not a CloudFormation template: invalid JSON ({exc.msg})"
        ) from exc
    if not isinstance(template, Mapping) or not isinstance(template.get("Resources"), Mapping):
        raise InputError.single(str(path), "not a CloudFormation template: no 'Resources' mapping")
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, Mapping) or not isinstance(resource.get("Type"), str):
            raise InputError.single(
                f"{path}: Resources.{logical_id}", "not a CloudFormation resource: it has no 'Type' string"
            )
    return StackTemplate(name=name, region=region, path=path, template=template)
