"""The compact encoded attribute that holds all of a feature group's values online.

Layout: one JSON array ``[schema_version, v1, v2, ..., vn]`` with the values in the
registry's feature order, ``null`` for an absent value, and ``NaN`` / ``Infinity`` for
non-finite floats (Python's json dialect; both ends of the codec are Python).

Why JSON and not per-feature DynamoDB attributes: a DynamoDB map of 200 numbers costs
~200 Decimal conversions and dict building per item in botocore plus the type
deserializer; one string attribute decoded with a single ``json.loads`` (C accelerated)
costs well under 1 µs per value (see bench/feature_store.py). The schema version travels
inside the value so a reader can never apply the wrong feature order to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lambdas.feature_store.registry import FeatureGroup

_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=True, ensure_ascii=False).encode
_loads = json.loads


class CodecError(ValueError):
    """The stored attribute is not a value this codec wrote."""


def encode_values(schema_version: int, values: Sequence[Any]) -> str:
    """Encode values already in registry order."""
    return _dumps([schema_version, *values])


def encode_record(group: FeatureGroup, features: Mapping[str, Any]) -> str:
    """Encode a name→value mapping in the group's feature order; absent names become null."""
    get = features.get
    return _dumps([group.schema_version, *(get(name) for name in group.feature_names)])


def decode(encoded: str) -> tuple[int, list[Any]]:
    """Return (schema_version, values in the writer's registry order)."""
    try:
        decoded = _loads(encoded)
    except (TypeError, ValueError) as exc:
        raise CodecError(f"feature attribute is not valid encoded JSON: {exc}") from None
    if not isinstance(decoded, list) or not decoded or type(decoded[0]) is not int:
        raise CodecError("feature attribute must be a JSON array starting with the schema version")
    return decoded[0], decoded[1:]


def decode_for(group: FeatureGroup, encoded: str) -> list[Any]:
    """Decode and check the value was written under this group's schema version."""
    version, values = decode(encoded)
    if version != group.schema_version:
        raise CodecError(
            f"feature attribute was written with schema version {version}, "
            f"group '{group.name}' is at version {group.schema_version}"
        )
    if len(values) != len(group.features):
        raise CodecError(
            f"feature attribute holds {len(values)} values, group '{group.name}' "
            f"defines {len(group.features)} features"
        )
    return values
