"""JSON schemas for prediction requests, and a validator for the subset they use.

The same schema is given to API Gateway (a request model, JSON Schema draft 4) and
checked again in the prediction function, so a request that reaches a model has passed
both. The validator covers exactly what ``schema_for_features`` generates — ``type``,
``required``, ``properties``, ``additionalProperties`` (boolean), ``minimum``,
``maximum``, ``enum``, ``items``, ``minItems``, ``maxItems`` — which keeps the
request path free of a third-party schema library, and reports every failing field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lambdas.common.errors import Problem

DRAFT_04 = "http://json-schema.org/draft-04/schema#"

FeatureDtype = Literal["float", "int", "string", "bool", "float_vector"]

_JSON_TYPE: dict[str, str] = {
    "float": "number",
    "int": "integer",
    "string": "string",
    "bool": "boolean",
    "float_vector": "array",
}

_SUPPORTED_KEYWORDS = frozenset(
    {
        "$schema",
        "title",
        "description",
        "type",
        "required",
        "properties",
        "additionalProperties",
        "minimum",
        "maximum",
        "enum",
        "items",
        "minItems",
        "maxItems",
    }
)


@dataclass(frozen=True)
class FeatureSpec:
    """What one request feature may hold."""

    name: str
    dtype: FeatureDtype
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str | int | float | bool, ...] = ()
    length: int | None = None

    def __post_init__(self) -> None:
        if self.dtype not in _JSON_TYPE:
            raise ValueError(
                f"feature {self.name!r}: dtype must be one of {sorted(_JSON_TYPE)}, got {self.dtype!r}"
            )
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"feature {self.name!r}: minimum {self.minimum} is above maximum {self.maximum}")
        if self.length is not None and (self.dtype != "float_vector" or self.length <= 0):
            raise ValueError(
                f"feature {self.name!r}: length applies only to float_vector and must be positive"
            )


def _feature_schema(spec: FeatureSpec) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if spec.minimum is not None:
        bounds["minimum"] = spec.minimum
    if spec.maximum is not None:
        bounds["maximum"] = spec.maximum
    if spec.dtype == "float_vector":
        schema: dict[str, Any] = {"type": "array", "items": {"type": "number", **bounds}}
        if spec.length is not None:
            schema["minItems"] = spec.length
            schema["maxItems"] = spec.length
        return schema
    schema = {"type": _JSON_TYPE[spec.dtype], **bounds}
    if spec.allowed:
        schema["enum"] = list(spec.allowed)
    return schema


def schema_for_features(model: str, features: Sequence[FeatureSpec]) -> dict[str, Any]:
    """Request schema ``{"features": {...}}`` for a model with these features."""
    names = [f.name for f in features]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"model {model!r}: duplicate feature names {duplicates}")
    if not features:
        raise ValueError(f"model {model!r}: a request schema needs at least one feature")
    return {
        "$schema": DRAFT_04,
        "title": f"{model} prediction request",
        "type": "object",
        "required": ["features"],
        "additionalProperties": False,
        "properties": {
            "features": {
                "type": "object",
                "required": [f.name for f in features if f.required],
                "additionalProperties": False,
                "properties": {f.name: _feature_schema(f) for f in features},
            }
        },
    }


def unsupported_keywords(schema: Mapping[str, Any]) -> list[str]:
    """Keywords in ``schema`` (at any depth) that ``validate`` would silently ignore."""
    found: set[str] = set()

    def walk(node: Mapping[str, Any]) -> None:
        found.update(k for k in node if k not in _SUPPORTED_KEYWORDS)
        for child in node.get("properties", {}).values():
            walk(child)
        items = node.get("items")
        if isinstance(items, Mapping):
            walk(items)

    walk(schema)
    return sorted(found)


def _is_type(value: Any, json_type: str) -> bool:
    # bool is an int subclass in Python but never a JSON number.
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    match json_type:
        case "object":
            return isinstance(value, Mapping)
        case "array":
            return isinstance(value, list)
        case "string":
            return isinstance(value, str)
        case "boolean":
            return isinstance(value, bool)
        case "null":
            return value is None
        case "number":
            return is_number and math.isfinite(value)
        case "integer":
            return is_number and math.isfinite(value) and value == int(value)
    return False


def _enum_contains(options: Sequence[Any], value: Any) -> bool:
    # Python says True == 1; JSON Schema keeps booleans and numbers apart.
    return any(option == value and isinstance(option, bool) == isinstance(value, bool) for option in options)


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _validate(schema: Mapping[str, Any], value: Any, path: str, problems: list[Problem]) -> None:
    expected = schema.get("type")
    if expected is not None:
        if isinstance(expected, str):
            matches = _is_type(value, expected)
            types = [expected]
        else:
            types = list(expected)
            matches = any(_is_type(value, t) for t in types)
        if not matches:
            problems.append(Problem(path or "$", f"must be of type {' or '.join(types)}"))
            return
    if "enum" in schema and not _enum_contains(schema["enum"], value):
        problems.append(Problem(path or "$", f"must be one of {schema['enum']}"))
    kind = type(value)
    if kind is float or kind is int:
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(Problem(path or "$", f"must be >= {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(Problem(path or "$", f"must be <= {schema['maximum']}"))
    elif isinstance(value, Mapping):
        _validate_object(schema, value, path, problems)
    elif kind is list:
        _validate_array(schema, value, path, problems)


def _validate_object(
    schema: Mapping[str, Any], value: Mapping[str, Any], path: str, problems: list[Problem]
) -> None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            problems.append(Problem(_child(path, name), "is required"))
    closed = schema.get("additionalProperties", True) is False
    prefix = f"{path}." if path else ""
    for name, child_value in value.items():
        child_schema = properties.get(name)
        if child_schema is not None:
            _validate(child_schema, child_value, prefix + name, problems)
        elif closed:
            problems.append(Problem(prefix + name, "is not an allowed field"))


def _validate_array(schema: Mapping[str, Any], value: list[Any], path: str, problems: list[Problem]) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        problems.append(Problem(path or "$", f"must have at least {schema['minItems']} items"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        problems.append(Problem(path or "$", f"must have at most {schema['maxItems']} items"))
    items = schema.get("items")
    if isinstance(items, Mapping):
        for index, item in enumerate(value):
            _validate(items, item, f"{path}[{index}]", problems)


def validate(schema: Mapping[str, Any], value: Any) -> list[Problem]:
    """Every way ``value`` breaks ``schema``; empty when it conforms."""
    problems: list[Problem] = []
    _validate(schema, value, "", problems)
    return problems
