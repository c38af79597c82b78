"""Canonical form and hash of a prediction request's features, used as the cache key.

Two requests that mean the same thing must hit the same cache entry, so the canonical
form ignores key order and the textual spelling of numbers (``1``, ``1.0`` and ``1e0``
are one value), while the model name and version are part of the key so that a new model
version never reads predictions made by the old one.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

# Separates key parts; cannot occur in model names or versions the catalog accepts.
_KEY_SEPARATOR = "#"


def _canonical_number(value: float) -> int | float:
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {value!r} has no canonical form")
    if value == int(value):
        # An integral value is written as an integer whatever its input spelling, so
        # 3, 3.0 and 3e0 (and -0.0 and 0) hash alike.
        return int(value)
    return value


def _canonical(value: Any) -> Any:
    # Exact type checks first: this runs once per feature on every request, and JSON
    # parsing only ever produces these concrete types.
    kind = type(value)
    if kind is float:
        return _canonical_number(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is dict:
        return {str(k): _canonical(v) for k, v in value.items()}
    if kind is list:
        return [_canonical(v) for v in value]
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _canonical_number(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    raise TypeError(f"cannot hash a value of type {type(value).__name__}")


def canonical_json(features: Mapping[str, Any]) -> str:
    """The one textual form of ``features``: sorted keys, shortest round-trip floats."""
    return json.dumps(
        _canonical(features),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def feature_digest(features: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of the canonical form of ``features``."""
    return hashlib.sha256(canonical_json(features).encode("utf-8")).hexdigest()


def cache_key_for_canonical(model: str, model_version: str, canonical: str) -> str:
    """Cache partition key from an already computed ``canonical_json`` text."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return _KEY_SEPARATOR.join((model, model_version, digest))


def cache_key(model: str, model_version: str, features: Mapping[str, Any]) -> str:
    """Cache partition key: model, model version and feature digest."""
    return cache_key_for_canonical(model, model_version, canonical_json(features))
