"""Classify the difference between a live index and its spec: apply in place, or rebuild.

OpenSearch can change replicas, ef_search and add mapping fields on a live index; everything
that shapes the HNSW graph or the shard layout is fixed when the index is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lambdas.common.errors import InputError, Problem
from lambdas.vector_search.index_spec import IndexSpec
from lambdas.vector_search.mapping import IndexShape


class ChangeKind(StrEnum):
    IN_PLACE = "in_place"
    REQUIRES_NEW_INDEX = "requires_new_index"
    # Mapped fields cannot be removed from an index; dropping one from config leaves it in place.
    KEPT = "kept"


class Action(StrEnum):
    NONE = "none"
    UPDATE_IN_PLACE = "update_in_place"
    NEW_INDEX_AND_ALIAS_SWAP = "new_index_and_alias_swap"


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any
    kind: ChangeKind

    def __str__(self) -> str:
        return f"{self.path}: {self.before!r} -> {self.after!r}"


_STRUCTURAL = ("dimension", "engine", "space_type", "m", "ef_construction", "shards", "vector_field")
_DYNAMIC = ("replicas", "ef_search")


@dataclass(frozen=True)
class IndexPlan:
    changes: tuple[FieldChange, ...]

    def of_kind(self, kind: ChangeKind) -> tuple[FieldChange, ...]:
        return tuple(c for c in self.changes if c.kind is kind)

    @property
    def needs_new_index(self) -> bool:
        return bool(self.of_kind(ChangeKind.REQUIRES_NEW_INDEX))

    @property
    def needs_in_place_update(self) -> bool:
        return bool(self.of_kind(ChangeKind.IN_PLACE))

    def new_metadata_fields(self) -> dict[str, str]:
        return {
            c.path.removeprefix("metadata."): c.after
            for c in self.of_kind(ChangeKind.IN_PLACE)
            if c.path.startswith("metadata.")
        }


def diff_index(current: IndexShape, desired: IndexShape) -> IndexPlan:
    changes: list[FieldChange] = []
    for name in _STRUCTURAL:
        before, after = getattr(current, name), getattr(desired, name)
        if before != after:
            changes.append(FieldChange(name, before, after, ChangeKind.REQUIRES_NEW_INDEX))
    for name in _DYNAMIC:
        before, after = getattr(current, name), getattr(desired, name)
        if before != after:
            changes.append(FieldChange(name, before, after, ChangeKind.IN_PLACE))
    for field_name in sorted(set(current.metadata) | set(desired.metadata)):
        before, after = current.metadata.get(field_name), desired.metadata.get(field_name)
        path = f"metadata.{field_name}"
        if before == after:
            continue
        if before is None:
            changes.append(FieldChange(path, None, after, ChangeKind.IN_PLACE))
        elif after is None:
            changes.append(FieldChange(path, before, None, ChangeKind.KEPT))
        else:
            # A mapped field's type is fixed for the life of the index.
            changes.append(FieldChange(path, before, after, ChangeKind.REQUIRES_NEW_INDEX))
    return IndexPlan(tuple(changes))


def decide(spec: IndexSpec, index_name: str, plan: IndexPlan) -> Action:
    """What the index custom resource does with a plan; refuses rebuilds the spec did not ask for."""
    if plan.needs_new_index:
        if spec.on_incompatible_change == "new_index_and_alias_swap":
            return Action.NEW_INDEX_AND_ALIAS_SWAP
        raise InputError(
            [
                Problem(
                    change.path,
                    f"{change.before!r} -> {change.after!r} cannot be changed on the live index '{index_name}'",
                )
                for change in plan.of_kind(ChangeKind.REQUIRES_NEW_INDEX)
            ]
            + [
                Problem(
                    "on_incompatible_change",
                    "set it to 'new_index_and_alias_swap' to build a new index and move the alias "
                    f"'{spec.name}' to it (documents must then be re-ingested), or revert the change",
                )
            ],
            source=f"k-NN index '{spec.name}'",
        )
    return Action.UPDATE_IN_PLACE if plan.needs_in_place_update else Action.NONE
