from __future__ import annotations

import json
from typing import Any

import pytest

from lambdas.common.errors import InputError
from lambdas.vector_search.index_handler import on_event
from lambdas.vector_search.index_spec import parse_index_spec
from lambdas.vector_search.mapping import build_index_body, physical_index_name
from tests.vector_search.conftest import FakeLambdaContext, spec_dict
from tests.vector_search.fake_opensearch import FakeOpenSearch

READER = "arn:aws:iam::111122223333:role/search"
WRITER = "arn:aws:iam::111122223333:role/ingest"


def event(request_type: str, spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    properties = {
        "IndexSpec": json.dumps(spec),
        "ReaderRoleArns": json.dumps([READER]),
        "WriterRoleArns": json.dumps([WRITER]),
        **extra,
    }
    body: dict[str, Any] = {"RequestType": request_type, "ResourceProperties": properties}
    if request_type != "Create":
        body["PhysicalResourceId"] = spec["name"]
    return body


def test_create_puts_the_index_with_its_alias_and_maps_roles() -> None:
    fake = FakeOpenSearch()
    raw = spec_dict()
    result = on_event(event("Create", raw), fake.client())
    physical = physical_index_name(parse_index_spec(raw))
    assert result == {
        "PhysicalResourceId": "docs",
        "Data": {"Alias": "docs", "IndexName": physical, "Action": "created"},
    }
    [put] = [s for s in fake.sent if s.method == "PUT" and s.path == f"/{physical}"]
    assert put.body == build_index_body(parse_index_spec(raw))
    assert fake.aliases == {"docs": physical}
    assert fake.roles["rolesmapping/docs-read"] == {"backend_roles": [READER]}
    assert fake.roles["rolesmapping/docs-write"] == {"backend_roles": [WRITER]}
    assert fake.roles["roles/docs-read"]["index_permissions"][0]["index_patterns"] == ["docs", "docs-*"]


def test_create_again_is_idempotent_and_writes_no_index() -> None:
    fake = FakeOpenSearch()
    on_event(event("Create", spec_dict()), fake.client())
    fake.sent.clear()
    result = on_event(event("Create", spec_dict()), fake.client())
    assert result["Data"]["Action"] == "none"
    index_writes = [s for s in fake.writes() if "_security" not in s.path]
    assert index_writes == []


def test_create_finishes_an_index_left_without_alias() -> None:
    fake = FakeOpenSearch()
    spec = parse_index_spec(spec_dict())
    physical = physical_index_name(spec)
    fake.indices[physical] = {k: v for k, v in build_index_body(spec).items() if k != "aliases"}
    on_event(event("Create", spec_dict()), fake.client())
    assert fake.aliases == {"docs": physical}
    assert not [s for s in fake.sent if s.method == "PUT" and s.path == f"/{physical}"]


def test_update_of_replicas_ef_search_and_new_field_is_applied_in_place() -> None:
    fake = FakeOpenSearch()
    on_event(event("Create", spec_dict()), fake.client())
    physical = fake.aliases["docs"]
    fake.sent.clear()
    changed = spec_dict(
        replicas=2,
        hnsw={"m": 16, "ef_construction": 256, "ef_search": 100},
        metadata={**spec_dict()["metadata"], "lang": "keyword"},
    )
    result = on_event(event("Update", changed), fake.client())
    assert result["Data"] == {"Alias": "docs", "IndexName": physical, "Action": "update_in_place"}
    writes = {(s.method, s.path): s.body for s in fake.writes() if "_security" not in s.path}
    assert writes == {
        ("PUT", f"/{physical}/_settings"): {
            "index": {"knn.algo_param.ef_search": 100, "number_of_replicas": 2}
        },
        ("PUT", f"/{physical}/_mapping"): {"properties": {"lang": {"type": "keyword"}}},
    }


def test_dimension_change_is_refused_with_a_clear_message() -> None:
    fake = FakeOpenSearch()
    on_event(event("Create", spec_dict()), fake.client())
    fake.sent.clear()
    with pytest.raises(InputError) as excinfo:
        on_event(event("Update", spec_dict(dimension=8)), fake.client())
    message = str(excinfo.value)
    assert "dimension: 4 -> 8 cannot be changed on the live index" in message
    assert "on_incompatible_change: set it to 'new_index_and_alias_swap'" in message
    assert fake.writes() == []


def test_engine_change_with_alias_swap_builds_a_new_index_and_swaps_atomically() -> None:
    fake = FakeOpenSearch()
    on_event(event("Create", spec_dict()), fake.client())
    old = fake.aliases["docs"]
    fake.sent.clear()
    changed = spec_dict(
        engine="lucene", space_type="cosinesimil", on_incompatible_change="new_index_and_alias_swap"
    )
    result = on_event(event("Update", changed), fake.client())
    new = physical_index_name(parse_index_spec(changed))
    assert new != old
    assert result["Data"] == {
        "Alias": "docs",
        "IndexName": new,
        "Action": "new_index_and_alias_swap",
        "PreviousIndexName": old,
    }
    [create] = [s for s in fake.sent if s.method == "PUT" and s.path == f"/{new}"]
    assert create.body["mappings"]["properties"]["embedding"]["method"]["engine"] == "lucene"
    assert "aliases" not in create.body
    [swap] = [s for s in fake.sent if s.path == "/_aliases"]
    assert swap.body == {
        "actions": [{"remove": {"index": old, "alias": "docs"}}, {"add": {"index": new, "alias": "docs"}}]
    }
    assert fake.aliases == {"docs": new}
    assert old in fake.indices  # kept for rollback and re-ingestion


def test_lifecycle_policy_is_put_attached_and_only_rewritten_when_changed() -> None:
    fake = FakeOpenSearch()
    life = {"warm_after_days": 7, "delete_after_days": 30}
    on_event(event("Create", spec_dict(lifecycle=life)), fake.client())
    physical = fake.aliases["docs"]
    assert fake.policies["docs-lifecycle"]["policy"]["states"][1]["name"] == "warm"
    assert fake.managed == {physical: "docs-lifecycle"}
    fake.sent.clear()
    on_event(event("Update", spec_dict(lifecycle=life)), fake.client())
    assert not [s for s in fake.writes() if "_ism" in s.path]
    on_event(event("Update", spec_dict(lifecycle={**life, "delete_after_days": 60})), fake.client())
    [put] = [s for s in fake.writes() if s.path == "/_plugins/_ism/policies/docs-lifecycle"]
    assert put.params == {"if_seq_no": "0", "if_primary_term": "1"}
    assert [s.path for s in fake.writes() if "change_policy" in s.path] == [
        f"/_plugins/_ism/change_policy/{physical}"
    ]


def test_delete_keeps_data_unless_asked() -> None:
    fake = FakeOpenSearch()
    on_event(event("Create", spec_dict()), fake.client())
    physical = fake.aliases["docs"]
    assert on_event(event("Delete", spec_dict()), fake.client()) == {"PhysicalResourceId": "docs"}
    assert physical in fake.indices
    on_event(event("Delete", spec_dict(), DeleteDataOnRemove="true"), fake.client())
    assert physical not in fake.indices


def test_a_concrete_index_named_like_the_alias_is_refused() -> None:
    fake = FakeOpenSearch()
    spec = parse_index_spec(spec_dict())
    fake.indices["docs"] = {k: v for k, v in build_index_body(spec).items() if k != "aliases"}
    with pytest.raises(InputError, match="concrete index, not an alias"):
        on_event(event("Create", spec_dict()), fake.client())


def test_bad_spec_and_role_lists_are_refused() -> None:
    fake = FakeOpenSearch()
    with pytest.raises(InputError, match="cosinesimil"):
        on_event(event("Create", spec_dict(space_type="cosinesimil")), fake.client())
    with pytest.raises(InputError, match="ReaderRoleArns"):
        on_event(event("Create", spec_dict(), ReaderRoleArns='["not-an-arn"]'), fake.client())
    assert fake.writes() == []


def test_handler_reports_refusals_as_a_readable_failure(
    monkeypatch: pytest.MonkeyPatch, lambda_context: FakeLambdaContext
) -> None:
    from lambdas.vector_search import index_handler
    from lambdas.vector_search.settings import OpenSearchSettings

    fake = FakeOpenSearch()
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "search-test.eu-west-1.es.amazonaws.com")
    monkeypatch.setattr(OpenSearchSettings, "client", lambda self: fake.client())
    assert index_handler.handler(event("Create", spec_dict()), lambda_context)["PhysicalResourceId"] == "docs"
    with pytest.raises(RuntimeError, match=r"k-NN index 'docs': dimension: 4 -> 8 cannot be changed"):
        index_handler.handler(event("Update", spec_dict(dimension=8)), lambda_context)


def test_handler_names_a_missing_endpoint_variable(
    monkeypatch: pytest.MonkeyPatch, lambda_context: FakeLambdaContext
) -> None:
    from lambdas.vector_search import index_handler

    monkeypatch.delenv("OPENSEARCH_ENDPOINT", raising=False)
    with pytest.raises(RuntimeError, match="OPENSEARCH_ENDPOINT: environment variable is not set"):
        index_handler.handler(event("Create", spec_dict()), lambda_context)
