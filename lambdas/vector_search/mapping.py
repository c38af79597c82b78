"""Index bodies (settings + mappings) built from an IndexSpec, and the reverse for live indices."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdas.vector_search.index_spec import (
    CHUNK_INDEX_FIELD,
    DOC_ID_FIELD,
    TEXT_FIELD,
    IndexSpec,
)

JsonDict = dict[str, Any]


def structural_fingerprint(spec: IndexSpec) -> str:
    """Hash of everything that can only change by building a new index.

    The physical index is named after it, so an alias swap always lands on a fresh name and an
    unchanged structure always maps back to the index that already exists.
    """
    structure = {
        "dimension": spec.dimension,
        "engine": str(spec.engine),
        "space_type": str(spec.space_type),
        "m": spec.hnsw.m,
        "ef_construction": spec.hnsw.ef_construction,
        "shards": spec.shards,
        "vector_field": spec.vector_field,
        # Mapped types are fixed too; including them keeps a swap target distinct from its source.
        "metadata": {name: str(t) for name, t in sorted(spec.metadata.items())},
    }
    return hashlib.sha256(json.dumps(structure, sort_keys=True).encode()).hexdigest()[:10]


def physical_index_name(spec: IndexSpec) -> str:
    return f"{spec.name}-{structural_fingerprint(spec)}"


def vector_mapping(spec: IndexSpec) -> JsonDict:
    return {
        "type": "knn_vector",
        "dimension": spec.dimension,
        "method": {
            "name": "hnsw",
            "engine": str(spec.engine),
            "space_type": str(spec.space_type),
            "parameters": {"m": spec.hnsw.m, "ef_construction": spec.hnsw.ef_construction},
        },
    }


def field_mappings(spec: IndexSpec) -> JsonDict:
    properties: JsonDict = {
        spec.vector_field: vector_mapping(spec),
        DOC_ID_FIELD: {"type": "keyword"},
        CHUNK_INDEX_FIELD: {"type": "integer"},
        TEXT_FIELD: {"type": "text"},
    }
    for name, field_type in sorted(spec.metadata.items()):
        properties[name] = {"type": str(field_type)}
    return properties


def index_settings(spec: IndexSpec) -> JsonDict:
    """Index settings; only replicas and ef_search are dynamic, the rest are fixed at creation."""
    return {
        "index": {
            "knn": True,
            "knn.algo_param.ef_search": spec.hnsw.ef_search,
            "number_of_shards": spec.shards,
            "number_of_replicas": spec.replicas,
        }
    }


def dynamic_settings(spec: IndexSpec) -> JsonDict:
    return {"index": {"knn.algo_param.ef_search": spec.hnsw.ef_search, "number_of_replicas": spec.replicas}}


def build_index_body(spec: IndexSpec) -> JsonDict:
    """The body of `PUT /<physical index>`: settings, mappings and the alias clients use."""
    return {
        "settings": index_settings(spec),
        "mappings": {"dynamic": "strict", "properties": field_mappings(spec)},
        "aliases": {spec.name: {}},
    }


def _setting(index_settings_block: JsonDict, dotted: str) -> Any:
    """Read a setting whether OpenSearch returned it flat ("knn.algo_param.ef_search") or nested."""
    if dotted in index_settings_block:
        return index_settings_block[dotted]
    node: Any = index_settings_block
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


@dataclass(frozen=True)
class IndexShape:
    """What an index is, as far as diffing is concerned: comparable between config and a live index."""

    dimension: int
    engine: str
    space_type: str
    m: int | None
    ef_construction: int | None
    ef_search: int | None
    shards: int
    replicas: int
    vector_field: str
    metadata: Mapping[str, str] = field(default_factory=dict)


def shape_of(spec: IndexSpec) -> IndexShape:
    return IndexShape(
        dimension=spec.dimension,
        engine=str(spec.engine),
        space_type=str(spec.space_type),
        m=spec.hnsw.m,
        ef_construction=spec.hnsw.ef_construction,
        ef_search=spec.hnsw.ef_search,
        shards=spec.shards,
        replicas=spec.replicas,
        vector_field=spec.vector_field,
        metadata={name: str(t) for name, t in spec.metadata.items()},
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def shape_from_index(index_name: str, index_body: JsonDict) -> IndexShape:
    """Read the shape of a live index from its `GET /<index>` entry (settings come back as strings)."""
    properties: JsonDict = index_body.get("mappings", {}).get("properties", {})
    vectors = [(name, body) for name, body in properties.items() if body.get("type") == "knn_vector"]
    if len(vectors) != 1:
        raise ValueError(
            f"index '{index_name}' has {len(vectors)} knn_vector fields; this platform manages indices with one"
        )
    vector_field, vector = vectors[0]
    method = vector.get("method", {})
    params = method.get("parameters", {})
    settings = index_body.get("settings", {}).get("index", {})
    own = {vector_field, DOC_ID_FIELD, CHUNK_INDEX_FIELD, TEXT_FIELD}
    return IndexShape(
        dimension=int(vector["dimension"]),
        # Indices created without a method default to nmslib/l2, which the platform never asks for.
        engine=str(method.get("engine", "nmslib")),
        space_type=str(method.get("space_type", "l2")),
        m=_int_or_none(params.get("m")),
        ef_construction=_int_or_none(params.get("ef_construction")),
        ef_search=_int_or_none(_setting(settings, "knn.algo_param.ef_search")),
        shards=int(_setting(settings, "number_of_shards") or 1),
        replicas=int(_setting(settings, "number_of_replicas") or 0),
        vector_field=vector_field,
        metadata={
            name: str(body.get("type", "object")) for name, body in properties.items() if name not in own
        },
    )
