from __future__ import annotations

import pytest

from lambdas.common.errors import InputError
from lambdas.vector_search.index_spec import IndexSpec, parse_index_spec
from lambdas.vector_search.mapping import (
    build_index_body,
    physical_index_name,
    shape_from_index,
    shape_of,
    structural_fingerprint,
)
from tests.vector_search.conftest import spec_dict


def test_faiss_with_cosine_is_refused_and_points_to_lucene() -> None:
    with pytest.raises(InputError) as excinfo:
        parse_index_spec(spec_dict(space_type="cosinesimil"))
    message = str(excinfo.value)
    assert "engine 'faiss' does not support space_type 'cosinesimil'" in message
    assert "lucene" in message


@pytest.mark.parametrize(
    ("engine", "space"),
    [("faiss", "l2"), ("faiss", "innerproduct"), ("lucene", "cosinesimil"), ("lucene", "l2")],
)
def test_supported_engine_and_space_combinations_are_accepted(engine: str, space: str) -> None:
    spec = parse_index_spec(spec_dict(engine=engine, space_type=space))
    assert (str(spec.engine), str(spec.space_type)) == (engine, space)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"dimension": 0}, "dimension"),
        ({"dimension": 16_001}, "dimension"),
        ({"name": "Docs"}, "name"),
        ({"metadata": {"doc_id": "keyword"}}, "metadata"),
        ({"metadata": {"bad-name": "keyword"}}, "metadata"),
        ({"replicas": -1}, "replicas"),
        ({"engine": "nmslib"}, "engine"),
    ],
)
def test_bad_specs_name_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as excinfo:
        parse_index_spec(spec_dict(**overrides))
    assert any(p.field.startswith(field) for p in excinfo.value.problems), excinfo.value.lines()


def test_cold_storage_requires_a_date_timestamp_field() -> None:
    with pytest.raises(InputError, match="timestamp_field"):
        parse_index_spec(spec_dict(lifecycle={"cold_after_days": 30}))
    with pytest.raises(InputError, match="type date"):
        parse_index_spec(spec_dict(lifecycle={"cold_after_days": 30, "timestamp_field": "team"}))


def test_lifecycle_ages_must_increase() -> None:
    with pytest.raises(InputError, match="delete_after_days"):
        parse_index_spec(spec_dict(lifecycle={"warm_after_days": 30, "delete_after_days": 10}))


def test_index_body_holds_knn_mapping_settings_and_alias(spec: IndexSpec) -> None:
    body = build_index_body(spec)
    assert body == {
        "settings": {
            "index": {
                "knn": True,
                "knn.algo_param.ef_search": 256,
                "number_of_shards": 2,
                "number_of_replicas": 1,
            }
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "embedding": {
                    "type": "knn_vector",
                    "dimension": 4,
                    "method": {
                        "name": "hnsw",
                        "engine": "faiss",
                        "space_type": "l2",
                        "parameters": {"m": 16, "ef_construction": 256},
                    },
                },
                "doc_id": {"type": "keyword"},
                "chunk_index": {"type": "integer"},
                "text": {"type": "text"},
                "published": {"type": "date"},
                "team": {"type": "keyword"},
                "title": {"type": "text"},
                "year": {"type": "integer"},
            },
        },
        "aliases": {"docs": {}},
    }


def test_fingerprint_ignores_dynamic_settings_but_not_structure(spec: IndexSpec) -> None:
    dynamic = parse_index_spec(spec_dict(replicas=2, hnsw={"m": 16, "ef_construction": 256, "ef_search": 50}))
    structural = parse_index_spec(spec_dict(dimension=8))
    assert structural_fingerprint(dynamic) == structural_fingerprint(spec)
    assert structural_fingerprint(structural) != structural_fingerprint(spec)
    assert physical_index_name(spec).startswith("docs-")


def test_shape_read_back_from_a_get_index_response_equals_the_spec_shape(spec: IndexSpec) -> None:
    body = build_index_body(spec)
    # OpenSearch returns settings as strings, with dotted keys nested.
    live = {
        "aliases": {"docs": {}},
        "mappings": body["mappings"],
        "settings": {
            "index": {
                "knn": {"algo_param": {"ef_search": "256"}},
                "number_of_shards": "2",
                "number_of_replicas": "1",
                "uuid": "x",
            }
        },
    }
    assert shape_from_index(physical_index_name(spec), live) == shape_of(spec)


def test_shape_of_an_index_without_vector_field_is_refused() -> None:
    with pytest.raises(ValueError, match="0 knn_vector fields"):
        shape_from_index("plain", {"mappings": {"properties": {"a": {"type": "keyword"}}}})
