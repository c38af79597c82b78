"""Loading the platform config file and turning every problem into one readable line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lambdas.common.errors import InputError, Problem
from stacks.config.models import PlatformConfig
from stacks.config.references import check_references

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "default.yaml"


class ConfigError(InputError):
    """The config file cannot be used; `lines()` gives one `file: field: reason` per problem."""


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _pydantic_problems(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        # Annotated validators add their function name to the location; it names no field.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see docs/configuration.md)"
        elif item["type"] == "missing":
            message = "required field is missing"
        problems.append(Problem(field_path(loc) or "(top level)", message))
    return problems


def parse_config(data: Any, source: str = "<config>") -> PlatformConfig:
    if not isinstance(data, dict):
        raise ConfigError([Problem("(top level)", "the config must be a mapping of sections")], source)
    try:
        config = PlatformConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_pydantic_problems(error), source) from None
    problems = check_references(config)
    if problems:
        raise ConfigError(problems, source)
    return config


def load_config(path: str | Path = DEFAULT_CONFIG) -> PlatformConfig:
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([Problem("", f"cannot read the config file: {error.strerror}")], source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError([Problem(where, f"not valid YAML: {problem}")], source) from None
    return parse_config(data, source)
