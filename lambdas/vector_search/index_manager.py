"""Create, update, swap and delete a k-NN index (and its ISM policy and access roles) over HTTP.

Clients always address the alias (`spec.name`); the physical index behind it is named after
the structural fingerprint, so a rebuild lands on a new index and the alias moves atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.common.errors import InputError
from lambdas.vector_search.http_client import OpenSearchClient
from lambdas.vector_search.index_diff import Action, decide, diff_index
from lambdas.vector_search.index_spec import IndexSpec
from lambdas.vector_search.lifecycle import build_ism_policy, policy_id
from lambdas.vector_search.mapping import (
    build_index_body,
    dynamic_settings,
    field_mappings,
    physical_index_name,
    shape_from_index,
    shape_of,
)

NOT_FOUND = frozenset({404})


@dataclass(frozen=True)
class IndexResult:
    alias: str
    index_name: str
    action: str
    previous_index: str | None = None


def alias_target(client: OpenSearchClient, alias: str) -> tuple[str, dict[str, Any]] | None:
    """The one physical index behind `alias` with its settings and mappings, or None."""
    response = client.request("GET", f"/{alias}", allow=NOT_FOUND)
    if not response.found:
        return None
    indices: dict[str, Any] = response.body
    if alias in indices:
        raise InputError.single(
            "name",
            f"'{alias}' is a concrete index, not an alias; this platform manages indices behind an alias. "
            "Reindex it into a new name or delete it before handing it to the platform",
        )
    if len(indices) != 1:
        raise InputError.single(
            "name", f"alias '{alias}' points at {len(indices)} indices: {sorted(indices)}"
        )
    name, body = next(iter(indices.items()))
    return name, body


def ensure_index(client: OpenSearchClient, spec: IndexSpec) -> IndexResult:
    current = alias_target(client, spec.name)
    if current is None:
        return _create(client, spec)
    index_name, body = current
    plan = diff_index(shape_from_index(index_name, body), shape_of(spec))
    action = decide(spec, index_name, plan)
    if action is Action.UPDATE_IN_PLACE:
        client.request("PUT", f"/{index_name}/_settings", dynamic_settings(spec))
        new_fields = plan.new_metadata_fields()
        if new_fields:
            properties = field_mappings(spec)
            client.request(
                "PUT", f"/{index_name}/_mapping", {"properties": {n: properties[n] for n in new_fields}}
            )
    elif action is Action.NEW_INDEX_AND_ALIAS_SWAP:
        return _swap(client, spec, index_name)
    ensure_lifecycle(client, spec, index_name)
    return IndexResult(spec.name, index_name, str(action))


def _create(client: OpenSearchClient, spec: IndexSpec) -> IndexResult:
    index_name = physical_index_name(spec)
    existing = client.request("GET", f"/{index_name}", allow=NOT_FOUND)
    if existing.found:
        # A previous attempt created the index but failed before the alias; finish the job.
        client.request("POST", "/_aliases", {"actions": [{"add": {"index": index_name, "alias": spec.name}}]})
    else:
        client.request("PUT", f"/{index_name}", build_index_body(spec))
    ensure_lifecycle(client, spec, index_name)
    return IndexResult(spec.name, index_name, "created")


def _swap(client: OpenSearchClient, spec: IndexSpec, old_index: str) -> IndexResult:
    new_index = physical_index_name(spec)
    body = {k: v for k, v in build_index_body(spec).items() if k != "aliases"}
    if not client.request("GET", f"/{new_index}", allow=NOT_FOUND).found:
        client.request("PUT", f"/{new_index}", body)
    # One _aliases call is atomic: readers see the old index or the new one, never neither.
    client.request(
        "POST",
        "/_aliases",
        {
            "actions": [
                {"remove": {"index": old_index, "alias": spec.name}},
                {"add": {"index": new_index, "alias": spec.name}},
            ]
        },
    )
    ensure_lifecycle(client, spec, new_index)
    return IndexResult(spec.name, new_index, str(Action.NEW_INDEX_AND_ALIAS_SWAP), previous_index=old_index)


def _same_policy(live: dict[str, Any], desired: dict[str, Any]) -> bool:
    keys = ("default_state", "states", "description")
    return all(live.get(k) == desired.get(k) for k in keys) and [
        t.get("index_patterns") for t in live.get("ism_template") or []
    ] == [t["index_patterns"] for t in desired.get("ism_template", [])]


def ensure_lifecycle(client: OpenSearchClient, spec: IndexSpec, index_name: str) -> str:
    """Put the ISM policy and attach it to the index; returns what was done (for logs and tests)."""
    desired = build_ism_policy(spec)
    pid = policy_id(spec)
    explain = client.request("GET", f"/_plugins/_ism/explain/{index_name}").body or {}
    managed_by = (explain.get(index_name) or {}).get("index.plugins.index_state_management.policy_id")
    if desired is None:
        if managed_by == pid:
            client.request("POST", f"/_plugins/_ism/remove/{index_name}")
            return "detached"
        return "none"
    live = client.request("GET", f"/_plugins/_ism/policies/{pid}", allow=NOT_FOUND)
    changed = True
    if not live.found:
        client.request("PUT", f"/_plugins/_ism/policies/{pid}", desired)
    elif _same_policy(live.body.get("policy", {}), desired["policy"]):
        changed = False
    else:
        client.request(
            "PUT",
            f"/_plugins/_ism/policies/{pid}",
            desired,
            params={"if_seq_no": live.body["_seq_no"], "if_primary_term": live.body["_primary_term"]},
        )
    if managed_by is None:
        client.request("POST", f"/_plugins/_ism/add/{index_name}", {"policy_id": pid})
        return "attached"
    if changed or managed_by != pid:
        client.request("POST", f"/_plugins/_ism/change_policy/{index_name}", {"policy_id": pid})
        return "changed"
    return "unchanged"


# Fine-grained access control: IAM alone does not authorise index operations, so the roles that
# read and write through the alias are mapped to OpenSearch roles scoped to this index family.
READ_ACTIONS = ("read", "indices:data/read/search*", "indices:admin/mappings/get")
WRITE_ACTIONS = ("crud", "create_index", "indices:data/write/delete/byquery", "indices:admin/mappings/get")


def security_role(spec: IndexSpec, actions: Sequence[str], cluster: Sequence[str]) -> dict[str, Any]:
    return {
        "cluster_permissions": list(cluster),
        "index_permissions": [
            {"index_patterns": [spec.name, f"{spec.name}-*"], "allowed_actions": list(actions)}
        ],
    }


def ensure_access(
    client: OpenSearchClient, spec: IndexSpec, readers: Sequence[str], writers: Sequence[str]
) -> list[str]:
    """Create `<name>-read` / `<name>-write` roles and map the given IAM role ARNs to them."""
    done = []
    for suffix, arns, actions, cluster in (
        ("read", readers, READ_ACTIONS, ("cluster_composite_ops_ro",)),
        ("write", writers, WRITE_ACTIONS, ("cluster_composite_ops", "indices:data/write/bulk")),
    ):
        if not arns:
            continue
        role = f"{spec.name}-{suffix}"
        client.request("PUT", f"/_plugins/_security/api/roles/{role}", security_role(spec, actions, cluster))
        client.request(
            "PUT", f"/_plugins/_security/api/rolesmapping/{role}", {"backend_roles": sorted(set(arns))}
        )
        done.append(role)
    return done


def delete_index(client: OpenSearchClient, spec: IndexSpec) -> list[str]:
    """Delete every physical index behind the alias and the ISM policy; returns what was deleted."""
    response = client.request("GET", f"/_alias/{spec.name}", allow=NOT_FOUND)
    indices = sorted(response.body) if response.found and isinstance(response.body, dict) else []
    for index_name in indices:
        client.request("DELETE", f"/{index_name}", allow=NOT_FOUND)
    client.request("DELETE", f"/_plugins/_ism/policies/{policy_id(spec)}", allow=NOT_FOUND)
    return indices
