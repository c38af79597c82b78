"""Merging the cloud assemblies that parallel synth workers wrote into one.

Each worker synthesizes the unsharded stacks and its share of the shard stacks into its own
directory. The merge moves every file the target lacks into it, checks that a file both hold
is identical (a stack synthesized by two workers must come out the same, or the split changed
the platform), and unions the JSON indexes: the manifests, `tree.json` and the validation
report. Stacks and their asset manifests are put back in creation order.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
TREE = "tree.json"
VALIDATION_REPORT = "validation-report.json"
_INDEXES = {MANIFEST, TREE, VALIDATION_REPORT}


class AssemblyMergeError(Exception):
    """Two synth workers disagree about a file, or a worker's output is not a cloud assembly."""


def merge_assemblies(target: Path, parts: Sequence[Path], stack_order: Sequence[str]) -> None:
    """Merge each of `parts` into `target`, leaving the parts' content moved or checked.

    `stack_order` lists stack display names (`dev/Foundation`, `dev/Serving-1`, ...) in
    creation order; artifacts and tree nodes are sorted by it.
    """
    position = {name: index for index, name in enumerate(stack_order)}
    for part in parts:
        if not (part / MANIFEST).is_file():
            raise AssemblyMergeError(f"{part}: a synth worker wrote no {MANIFEST}")
    # tree.json is tens of MB for a large platform: read each copy once, write the result once.
    trees = [part / TREE for part in parts if (part / TREE).is_file()]
    if trees and (target / TREE).is_file():
        tree = _read(target / TREE)
        for path in trees:
            _merge_tree(tree, _read(path))
            path.unlink()
        _sort_tree(tree, position)
        _write(target / TREE, tree)
    for part in parts:
        _merge_directory(target, part, position)
    _sort_manifests(target, position)


def _merge_directory(target: Path, part: Path, position: Mapping[str, int]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted(part.iterdir()):
        destination = target / source.name
        if source.name in _INDEXES:
            _merge_index(destination, source)
        elif source.is_dir() and source.name.startswith("assembly-"):
            _merge_directory(destination, source, position)
        elif not destination.exists():
            shutil.move(str(source), str(destination))
        elif source.is_dir() or source.name.endswith(".metadata.json"):
            # asset.<hash> directories are named by their content: the same name is the same asset.
            # Metadata holds creation stack traces, which name each worker's own temporary paths.
            continue
        elif source.read_bytes() != destination.read_bytes():
            raise AssemblyMergeError(
                f"{destination.name}: synth workers produced different contents. A stack that every "
                "worker builds must not depend on which shards a worker holds; refer to other stacks' "
                "resources by name, not by token."
            )


def _merge_index(destination: Path, source: Path) -> None:
    if not destination.exists():
        shutil.move(str(source), str(destination))
        return
    mergers: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
        MANIFEST: _merge_manifest,
        TREE: _merge_tree,
        VALIDATION_REPORT: _merge_validation_report,
    }
    merged = _read(destination)
    mergers[source.name](merged, _read(source))
    _write(destination, merged)


def _merge_manifest(target: dict[str, Any], part: dict[str, Any]) -> None:
    artifacts = target.setdefault("artifacts", {})
    for artifact_id, artifact in part.get("artifacts", {}).items():
        if artifact_id not in artifacts:
            artifacts[artifact_id] = artifact
        elif artifacts[artifact_id] != artifact:
            raise AssemblyMergeError(
                f"artifact {artifact_id}: synth workers produced different manifest entries"
            )
    missing = part.get("missing")
    if missing:
        known = target.setdefault("missing", [])
        known.extend(m for m in missing if m not in known)


def _merge_tree(target: dict[str, Any], part: dict[str, Any]) -> None:
    def merge_node(into: dict[str, Any], node: dict[str, Any]) -> None:
        if "children" not in node:
            return
        children = into.setdefault("children", {})
        for child_id, child in node["children"].items():
            if child_id in children:
                merge_node(children[child_id], child)
            else:
                children[child_id] = child

    merge_node(target["tree"], part["tree"])


def _entry_key(entry: Mapping[str, Any]) -> tuple[str, str, tuple[tuple[str, str, str], ...]]:
    constructs = []
    for construct in entry.get("violatingConstructs", []):
        resource = construct.get("cloudFormationResource", {})
        constructs.append(
            (
                construct.get("constructPath", ""),
                resource.get("templatePath", ""),
                resource.get("logicalId", ""),
            )
        )
    return entry.get("ruleName", ""), entry.get("description", ""), tuple(sorted(constructs))


def _merge_validation_report(target: dict[str, Any], part: dict[str, Any]) -> None:
    reports = {report["pluginName"]: report for report in target.setdefault("pluginReports", [])}
    for report in part.get("pluginReports", []):
        mine = reports.get(report["pluginName"])
        if mine is None:
            target["pluginReports"].append(report)
            reports[report["pluginName"]] = report
            continue
        if report.get("conclusion") == "failure":
            mine["conclusion"] = "failure"
        for field in ("violations", "suppressedViolations"):
            # The report has an entry per rule, message and stack; a stack every worker builds
            # brings the same entries from each of them.
            entries = mine.setdefault(field, [])
            seen = {_entry_key(entry) for entry in entries}
            for entry in report.get(field, []):
                if _entry_key(entry) not in seen:
                    entries.append(entry)
                    seen.add(_entry_key(entry))


def _sort_manifests(root: Path, position: Mapping[str, int]) -> None:
    for manifest_path in [root / MANIFEST, *sorted(root.glob(f"assembly-*/{MANIFEST}"))]:
        manifest = _read(manifest_path)
        artifacts: dict[str, Any] = manifest.get("artifacts", {})
        last = len(position)

        def order(
            item: tuple[str, Any], artifacts: dict[str, Any] = artifacts, last: int = last
        ) -> tuple[int, int]:
            artifact_id, artifact = item
            # An asset manifest (`<stack>.assets`) comes just before its stack.
            stack = artifacts.get(artifact_id.removesuffix(".assets"), artifact)
            rank = position.get(stack.get("displayName", ""), last)
            return rank, 0 if artifact_id.endswith(".assets") else 1

        manifest["artifacts"] = dict(sorted(artifacts.items(), key=order))
        _write(manifest_path, manifest)


def _sort_tree(tree: dict[str, Any], position: Mapping[str, int]) -> None:
    last = len(position)
    for stage in tree["tree"].get("children", {}).values():
        children = stage.get("children")
        if children and any(child.get("path") in position for child in children.values()):
            stage["children"] = dict(
                sorted(children.items(), key=lambda item: position.get(item[1].get("path", ""), last))
            )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AssemblyMergeError(f"{path}: cannot read it as JSON ({error})") from None
    if not isinstance(data, dict):
        raise AssemblyMergeError(f"{path}: expected a JSON object")
    return data


def _write(path: Path, data: Mapping[str, Any]) -> None:
    # tree.json runs to tens of MB for a large platform: indenting it makes json use its
    # pure-Python encoder, which took seconds; compact goes through the C encoder.
    text = json.dumps(data, separators=(",", ":")) if path.name == TREE else json.dumps(data, indent=2)
    path.write_text(text, encoding="utf-8")
