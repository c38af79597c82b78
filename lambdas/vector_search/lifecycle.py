"""Index State Management policy from an index's lifecycle: hot -> warm -> cold -> delete by age.

Warm is UltraWarm (k-NN indices may migrate from OpenSearch 2.17); cold is cold storage, which
keys on a date field; once an index is cold it can only be removed with `cold_delete`.
"""

from __future__ import annotations

from typing import Any

from lambdas.vector_search.index_spec import IndexSpec

JsonDict = dict[str, Any]

# Migrations wait for cluster capacity; retrying hourly rides out a busy cluster.
_MIGRATION_RETRY = {"count": 5, "backoff": "exponential", "delay": "1h"}


def policy_id(spec: IndexSpec) -> str:
    return f"{spec.name}-lifecycle"


def _transition(state: str, days: int) -> JsonDict:
    return {"state_name": state, "conditions": {"min_index_age": f"{days}d"}}


def build_ism_policy(spec: IndexSpec) -> JsonDict | None:
    """The body of `PUT _plugins/_ism/policies/<id>`, or None when the spec has no lifecycle."""
    life = spec.lifecycle
    if not life.enabled:
        return None
    stages: list[tuple[str, int | None]] = [
        ("warm", life.warm_after_days),
        ("cold", life.cold_after_days),
        ("delete", life.delete_after_days),
    ]
    present = [(name, days) for name, days in stages if days is not None]
    states: list[JsonDict] = []
    hot_transitions = [_transition(present[0][0], present[0][1])] if present else []
    states.append({"name": "hot", "actions": [], "transitions": hot_transitions})
    for position, (name, _days) in enumerate(present):
        following = present[position + 1] if position + 1 < len(present) else None
        transitions = [_transition(following[0], following[1])] if following and following[1] else []
        actions: list[JsonDict]
        if name == "warm":
            actions = [{"retry": _MIGRATION_RETRY, "warm_migration": {}}]
        elif name == "cold":
            actions = [
                {"retry": _MIGRATION_RETRY, "cold_migration": {"timestamp_field": life.timestamp_field}}
            ]
        else:
            actions = [{"cold_delete": {}}] if life.cold_after_days is not None else [{"delete": {}}]
        states.append({"name": name, "actions": actions, "transitions": transitions})
    return {
        "policy": {
            "description": f"Lifecycle of k-NN index '{spec.name}': hot, then warm, cold and delete by age",
            "default_state": "hot",
            "states": states,
            "ism_template": [{"index_patterns": [f"{spec.name}-*"], "priority": 100}],
        }
    }
