from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from lambdas.common.errors import InputError
from lambdas.vector_search.index_diff import Action, ChangeKind, decide, diff_index
from lambdas.vector_search.index_spec import IndexSpec, parse_index_spec
from lambdas.vector_search.lifecycle import build_ism_policy, policy_id
from lambdas.vector_search.mapping import shape_of
from tests.vector_search.conftest import spec_dict


def test_identical_shapes_need_nothing(spec: IndexSpec) -> None:
    plan = diff_index(shape_of(spec), shape_of(spec))
    assert plan.changes == ()
    assert decide(spec, "docs-x", plan) is Action.NONE


@pytest.mark.parametrize(
    ("field", "value"),
    [("replicas", 3), ("ef_search", 64)],
)
def test_dynamic_settings_change_in_place(spec: IndexSpec, field: str, value: Any) -> None:
    plan = diff_index(shape_of(spec), replace(shape_of(spec), **{field: value}))
    assert [(c.path, c.kind) for c in plan.changes] == [(field, ChangeKind.IN_PLACE)]
    assert decide(spec, "docs-x", plan) is Action.UPDATE_IN_PLACE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dimension", 8),
        ("engine", "lucene"),
        ("space_type", "innerproduct"),
        ("m", 32),
        ("ef_construction", 512),
        ("shards", 4),
        ("vector_field", "vec"),
    ],
)
def test_structural_changes_need_a_new_index_and_are_refused_by_default(
    spec: IndexSpec, field: str, value: Any
) -> None:
    plan = diff_index(shape_of(spec), replace(shape_of(spec), **{field: value}))
    assert [(c.path, c.kind) for c in plan.changes] == [(field, ChangeKind.REQUIRES_NEW_INDEX)]
    with pytest.raises(InputError) as excinfo:
        decide(spec, "docs-abc", plan)
    fields = [p.field for p in excinfo.value.problems]
    assert fields == [field, "on_incompatible_change"]
    assert "docs-abc" in str(excinfo.value)
    assert "new_index_and_alias_swap" in str(excinfo.value)


def test_structural_change_is_accepted_when_the_spec_asks_for_an_alias_swap() -> None:
    spec = parse_index_spec(spec_dict(on_incompatible_change="new_index_and_alias_swap"))
    plan = diff_index(shape_of(spec), replace(shape_of(spec), dimension=8))
    assert decide(spec, "docs-x", plan) is Action.NEW_INDEX_AND_ALIAS_SWAP


def test_metadata_added_in_place_removed_kept_retyped_rebuilt(spec: IndexSpec) -> None:
    current = shape_of(spec)
    desired = replace(current, metadata={**current.metadata, "lang": "keyword", "year": "long"})
    desired = replace(desired, metadata={k: v for k, v in desired.metadata.items() if k != "title"})
    plan = diff_index(current, desired)
    kinds = {c.path: c.kind for c in plan.changes}
    assert kinds == {
        "metadata.lang": ChangeKind.IN_PLACE,
        "metadata.title": ChangeKind.KEPT,
        "metadata.year": ChangeKind.REQUIRES_NEW_INDEX,
    }
    assert plan.new_metadata_fields() == {"lang": "keyword"}


def test_no_lifecycle_means_no_policy(spec: IndexSpec) -> None:
    assert build_ism_policy(spec) is None


def test_full_lifecycle_policy_moves_hot_warm_cold_and_cold_deletes() -> None:
    spec = parse_index_spec(
        spec_dict(
            lifecycle={
                "warm_after_days": 7,
                "cold_after_days": 30,
                "delete_after_days": 365,
                "timestamp_field": "published",
            }
        )
    )
    policy = build_ism_policy(spec)
    assert policy is not None
    body = policy["policy"]
    assert body["default_state"] == "hot"
    assert [s["name"] for s in body["states"]] == ["hot", "warm", "cold", "delete"]
    transitions = {s["name"]: s["transitions"] for s in body["states"]}
    assert transitions["hot"] == [{"state_name": "warm", "conditions": {"min_index_age": "7d"}}]
    assert transitions["warm"] == [{"state_name": "cold", "conditions": {"min_index_age": "30d"}}]
    assert transitions["cold"] == [{"state_name": "delete", "conditions": {"min_index_age": "365d"}}]
    assert transitions["delete"] == []
    actions = {s["name"]: s["actions"] for s in body["states"]}
    assert "warm_migration" in actions["warm"][0]
    assert actions["cold"][0]["cold_migration"] == {"timestamp_field": "published"}
    assert actions["delete"] == [{"cold_delete": {}}]
    assert body["ism_template"] == [{"index_patterns": ["docs-*"], "priority": 100}]
    assert policy_id(spec) == "docs-lifecycle"


def test_hot_then_delete_uses_plain_delete() -> None:
    spec = parse_index_spec(spec_dict(lifecycle={"delete_after_days": 90}))
    policy = build_ism_policy(spec)
    assert policy is not None
    states = policy["policy"]["states"]
    assert [s["name"] for s in states] == ["hot", "delete"]
    assert states[0]["transitions"] == [{"state_name": "delete", "conditions": {"min_index_age": "90d"}}]
    assert states[1]["actions"] == [{"delete": {}}]
