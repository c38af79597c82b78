"""Versioned JSON for dataset profiles (what the baseline and partition profiles look like in S3).

Format `mlplatform.drift.profile`, version 1. Floats are written with Python's shortest
round-trip repr, so a profile read back is bit-identical to the one written. Infinite bin
edges are implicit (the end bins), so the JSON never holds a non-finite number.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from lambdas.common.errors import InputError
from lambdas.drift.categorical_profile import CategoricalProfile
from lambdas.drift.dataset_profile import DatasetProfile, FeatureProfile
from lambdas.drift.numeric_profile import NumericProfile

FORMAT = "mlplatform.drift.profile"
VERSION = 1


def _float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _feature_to_dict(profile: FeatureProfile) -> dict[str, Any]:
    if isinstance(profile, NumericProfile):
        return {
            "kind": "numeric",
            "edges": profile.edges.tolist(),
            "counts": profile.counts.tolist(),
            "sums": profile.sums.tolist(),
            "nan_count": profile.nan_count,
            "neg_inf_count": profile.neg_inf_count,
            "pos_inf_count": profile.pos_inf_count,
            "mean": profile.mean,
            "m2": profile.m2,
            "min": _float(profile.minimum),
            "max": _float(profile.maximum),
            "max_exact": profile.max_exact,
            "exact": None if profile.exact is None else profile.exact.tolist(),
        }
    return {
        "kind": "categorical",
        "categories": list(profile.categories),
        "counts": profile.counts.tolist(),
        "missing_count": profile.missing_count,
    }


def profile_to_dict(profile: DatasetProfile) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "rows": profile.rows,
        "features": {name: _feature_to_dict(p) for name, p in profile.features.items()},
        "problems": dict(profile.problems),
    }


def dumps(profile: DatasetProfile) -> str:
    return json.dumps(profile_to_dict(profile), allow_nan=False, separators=(",", ":"))


def _numeric_from_dict(body: dict[str, Any]) -> NumericProfile:
    edges = np.asarray(body["edges"], dtype=np.float64)
    counts = np.asarray(body["counts"], dtype=np.int64)
    sums = np.asarray(body["sums"], dtype=np.float64)
    if counts.shape != (edges.size + 1,) or sums.shape != counts.shape:
        raise ValueError(f"needs len(edges) + 1 = {edges.size + 1} counts and sums")
    if edges.size and not np.all(np.diff(edges) > 0):
        raise ValueError("edges must be strictly increasing")
    if np.any(counts < 0):
        raise ValueError("counts must not be negative")
    exact = body.get("exact")

    def bound(key: str) -> float:
        value = body.get(key)
        return float("nan") if value is None else float(value)

    return NumericProfile(
        edges=edges,
        counts=counts,
        sums=sums,
        nan_count=int(body["nan_count"]),
        neg_inf_count=int(body["neg_inf_count"]),
        pos_inf_count=int(body["pos_inf_count"]),
        mean=float(body["mean"]),
        m2=float(body["m2"]),
        minimum=bound("min"),
        maximum=bound("max"),
        max_exact=int(body["max_exact"]),
        exact=None if exact is None else np.asarray(exact, dtype=np.float64),
    )


def _categorical_from_dict(body: dict[str, Any]) -> CategoricalProfile:
    categories = tuple(str(c) for c in body["categories"])
    counts = np.asarray(body["counts"], dtype=np.int64)
    if counts.shape != (len(categories) + 1,):
        raise ValueError(f"needs len(categories) + 1 = {len(categories) + 1} counts (the last is OTHER)")
    return CategoricalProfile(categories, counts, int(body["missing_count"]))


def profile_from_dict(body: Any, source: str = "profile") -> DatasetProfile:
    """Read a profile, naming the field that is wrong when it is not one."""
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise InputError.single("format", f"is not a {FORMAT} document", source)
    if body.get("version") != VERSION:
        raise InputError.single(
            "version", f"unsupported version {body.get('version')!r}; expected {VERSION}", source
        )
    features: dict[str, FeatureProfile] = {}
    raw_features = body.get("features")
    if not isinstance(raw_features, dict):
        raise InputError.single("features", "must be an object from feature name to profile", source)
    for name, raw in raw_features.items():
        try:
            kind = raw.get("kind")
            if kind == "numeric":
                features[name] = _numeric_from_dict(raw)
            elif kind == "categorical":
                features[name] = _categorical_from_dict(raw)
            else:
                raise ValueError(f"kind must be numeric or categorical, got {kind!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InputError.single(f"features.{name}", detail, source) from None
    problems = body.get("problems") or {}
    return DatasetProfile(features, int(body.get("rows", 0)), {str(k): str(v) for k, v in problems.items()})


def loads(text: str | bytes, source: str = "profile") -> DatasetProfile:
    try:
        body = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError.single("", f"is not valid JSON ({exc})", source) from None
    return profile_from_dict(body, source)
