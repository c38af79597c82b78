"""An in-memory stand-in for the OpenSearch REST endpoints the platform calls.

It keeps indices, aliases, ISM policies and security roles, answers like OpenSearch does
(settings as strings, 404 bodies, bulk items), and records every request for assertions.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from botocore.credentials import Credentials

from lambdas.vector_search.http_client import OpenSearchClient, RawResponse


@dataclass
class Sent:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any

    @property
    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.body.strip().split("\n")]


@dataclass
class FakeOpenSearch:
    indices: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    managed: dict[str, str] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    # Scripted answers that take precedence: (method, path prefix) -> queue of (status, body).
    scripted: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    search_handler: Callable[[str, Any], Any] | None = None
    # Per chunk id, statuses its next bulk items answer with (then 201).
    bulk_failures: dict[str, list[int]] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> OpenSearchClient:
        return OpenSearchClient(
            "search-test.eu-west-1.es.amazonaws.com",
            "eu-west-1",
            lambda: Credentials("AKIDEXAMPLE", "secret", "token"),
            transport=self,
            sleep=kwargs.pop("sleep", lambda _s: None),
            **kwargs,
        )

    def writes(self) -> list[Sent]:
        return [s for s in self.sent if s.method != "GET"]

    # Transport protocol
    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> RawResponse:
        parts = urlsplit(url)
        path = unquote(parts.path)
        text = body.decode() if body else None
        parsed: Any = None
        if text is not None:
            parsed = text if headers.get("Content-Type") == "application/x-ndjson" else json.loads(text)
        self.sent.append(Sent(method, path, dict(parse_qsl(parts.query)), dict(headers), parsed))
        for (m, prefix), queue in self.scripted.items():
            if m == method and path.startswith(prefix) and queue:
                status, answer = queue.pop(0)
                return RawResponse(status, json.dumps(answer).encode())
        status, answer = self._route(method, path, parsed)
        return RawResponse(status, json.dumps(answer).encode())

    def _not_found(self, name: str) -> tuple[int, Any]:
        return 404, {
            "error": {"type": "index_not_found_exception", "reason": f"no such index [{name}]"},
            "status": 404,
        }

    def _index_view(self, name: str) -> dict[str, Any]:
        body = self.indices[name]
        settings = body["settings"]["index"]
        return {
            "aliases": {a: {} for a, target in self.aliases.items() if target == name},
            "mappings": copy.deepcopy(body["mappings"]),
            "settings": {
                "index": {
                    "knn": "true",
                    "knn.algo_param.ef_search": str(settings["knn.algo_param.ef_search"]),
                    "number_of_shards": str(settings["number_of_shards"]),
                    "number_of_replicas": str(settings["number_of_replicas"]),
                }
            },
        }

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        segments = [s for s in path.split("/") if s]
        if segments[:2] == ["_plugins", "_ism"]:
            return self._ism(method, segments[2:], body)
        if segments[:3] == ["_plugins", "_security", "api"]:
            self.roles[f"{segments[3]}/{segments[4]}"] = body
            return 200, {"status": "OK"}
        if segments == ["_aliases"]:
            for action in body["actions"]:
                ((kind, spec),) = action.items()
                if kind == "add":
                    self.aliases[spec["alias"]] = spec["index"]
                elif self.aliases.get(spec["alias"]) == spec["index"]:
                    del self.aliases[spec["alias"]]
            return 200, {"acknowledged": True}
        if segments == ["_bulk"]:
            return self._bulk(body)
        if segments[0] == "_alias":
            target = self.aliases.get(segments[1])
            return (200, {target: {"aliases": {segments[1]: {}}}}) if target else self._not_found(segments[1])
        name = self.aliases.get(segments[0], segments[0])
        if len(segments) == 1:
            if method == "GET":
                return (
                    (200, {name: self._index_view(name)})
                    if name in self.indices
                    else self._not_found(segments[0])
                )
            if method == "PUT":
                if name in self.indices:
                    return 400, {"error": {"type": "resource_already_exists_exception"}}
                self.indices[name] = copy.deepcopy({k: v for k, v in body.items() if k != "aliases"})
                for alias in body.get("aliases", {}):
                    self.aliases[alias] = name
                self.documents[name] = {}
                return 200, {"acknowledged": True, "index": name}
            if method == "DELETE":
                self.indices.pop(name, None)
                self.aliases = {a: t for a, t in self.aliases.items() if t != name}
                return 200, {"acknowledged": True}
        if segments[1] == "_settings":
            self.indices[name]["settings"]["index"].update(body["index"])
            return 200, {"acknowledged": True}
        if segments[1] == "_mapping":
            self.indices[name]["mappings"]["properties"].update(body["properties"])
            return 200, {"acknowledged": True}
        if segments[1] == "_delete_by_query":
            return self._delete_by_query(name, body)
        if segments[1] == "_search" and self.search_handler is not None:
            return 200, self.search_handler(segments[0], body)
        return 400, {"error": {"type": "unsupported", "reason": f"{method} {path}"}}

    def _bulk(self, ndjson: str) -> tuple[int, Any]:
        lines = [json.loads(line) for line in ndjson.strip().split("\n")]
        items = []
        for action, source in zip(lines[0::2], lines[1::2], strict=True):
            meta = action["index"]
            doc_id = meta["_id"]
            queue = self.bulk_failures.get(doc_id, [])
            if queue:
                status = queue.pop(0)
                error = {
                    "type": "es_rejected_execution_exception"
                    if status == 429
                    else "mapper_parsing_exception",
                    "reason": "scripted failure",
                }
                items.append({"index": {"_id": doc_id, "status": status, "error": error}})
                continue
            index = self.aliases.get(meta["_index"], meta["_index"])
            self.documents.setdefault(index, {})[doc_id] = source
            items.append({"index": {"_id": doc_id, "status": 201, "result": "created"}})
        return 200, {"took": 1, "errors": any("error" in i["index"] for i in items), "items": items}

    def _delete_by_query(self, index: str, body: Any) -> tuple[int, Any]:
        term, bounds = body["query"]["bool"]["filter"]
        doc_id = term["term"]["doc_id"]
        lowest = bounds["range"]["chunk_index"]["gte"]
        store = self.documents.get(index, {})
        doomed = [k for k, v in store.items() if v["doc_id"] == doc_id and v["chunk_index"] >= lowest]
        for key in doomed:
            del store[key]
        return 200, {"deleted": len(doomed)}

    def _ism(self, method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        kind, target = rest[0], rest[1]
        if kind == "policies":
            if method == "GET":
                if target not in self.policies:
                    return 404, {"error": {"type": "status_exception", "reason": "Policy not found"}}
                stored = self.policies[target]
                return 200, {
                    "_id": target,
                    "_seq_no": stored["seq"],
                    "_primary_term": 1,
                    "policy": stored["policy"],
                }
            if method == "PUT":
                seq = self.policies.get(target, {"seq": -1})["seq"] + 1
                self.policies[target] = {"seq": seq, "policy": {**body["policy"], "policy_id": target}}
                return 201, {"_id": target}
            self.policies.pop(target, None)
            return 200, {"result": "deleted"}
        if kind == "explain":
            return 200, {target: {"index.plugins.index_state_management.policy_id": self.managed.get(target)}}
        if kind in ("add", "change_policy"):
            self.managed[target] = body["policy_id"]
            return 200, {"updated_indices": 1, "failures": False}
        if kind == "remove":
            self.managed.pop(target, None)
            return 200, {"updated_indices": 1, "failures": False}
        return 400, {"error": {"type": "unsupported"}}
