"""Read literal values out of CloudFormation properties, resolving what can be resolved offline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def literal(value: Any, parameters: Mapping[str, Any]) -> Any:
    """The value itself, a parameter's default for a Ref to a parameter, else None."""
    if isinstance(value, Mapping):
        if set(value) == {"Ref"}:
            parameter = parameters.get(str(value["Ref"]))
            if isinstance(parameter, Mapping):
                return parameter.get("Default")
        return None
    return value


def as_str(value: Any, parameters: Mapping[str, Any]) -> str | None:
    resolved = literal(value, parameters)
    return resolved if isinstance(resolved, str) else None


def as_number(value: Any, parameters: Mapping[str, Any], default: float | None = None) -> float | None:
    if value is None:
        return default
    resolved = literal(value, parameters)
    if isinstance(resolved, bool):
        return None
    if isinstance(resolved, int | float):
        return float(resolved)
    if isinstance(resolved, str):
        try:
            return float(resolved)
        except ValueError:
            return None
    return None


def as_bool(value: Any, parameters: Mapping[str, Any], default: bool = False) -> bool | None:
    if value is None:
        return default
    resolved = literal(value, parameters)
    if isinstance(resolved, bool):
        return resolved
    if isinstance(resolved, str) and resolved.lower() in ("true", "false"):
        return resolved.lower() == "true"
    return None
