"""The usage file: expected monthly quantities for usage-priced resources.

```yaml
default_region: us-east-1          # for env-agnostic stacks
defaults:                          # per resource type, applied to every resource of it
  AWS::Lambda::Function: {requests_per_month: 1000000, avg_duration_ms: 120}
resources:                         # key: logical id, Stack/LogicalId, CDK path, or a glob of those
  "Prod/Serving/*/Predict*": {requests_per_month: 50000000, avg_duration_ms: 40}
```

A key that matches no resource, a field that does not apply to the matched resource type
and a negative quantity are errors naming the key and field: a usage file that silently
prices nothing would present a wrong total as right.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

from lambdas.common.errors import InputError, Problem


class ResourceUsage(BaseModel):
    """Monthly quantities; which fields apply depends on the resource type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_month: NonNegativeFloat | None = None
    avg_duration_ms: NonNegativeFloat | None = None
    avg_payload_kb: NonNegativeFloat | None = None
    transitions_per_month: NonNegativeFloat | None = None
    read_units_per_month: NonNegativeFloat | None = None
    write_units_per_month: NonNegativeFloat | None = None
    storage_gb: NonNegativeFloat | None = None
    storage_gb_by_class: dict[str, NonNegativeFloat] | None = None
    put_requests_per_month: NonNegativeFloat | None = None
    get_requests_per_month: NonNegativeFloat | None = None
    data_gb_per_month: NonNegativeFloat | None = None
    dpu_hours_per_month: NonNegativeFloat | None = None
    run_hours_per_month: NonNegativeFloat | None = None
    instance_count: NonNegativeFloat | None = None

    def merged_over(self, base: ResourceUsage | None) -> ResourceUsage:
        if base is None:
            return self
        return ResourceUsage(**{**base.model_dump(exclude_none=True), **self.model_dump(exclude_none=True)})


class ScheduledJob(BaseModel):
    """Work the platform runs that is no template resource: training, processing, Glue runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    service: Literal["sagemaker_training", "sagemaker_processing", "glue"]
    instance_type: str | None = None  # SageMaker jobs
    instance_count: PositiveInt = 1
    dpus: PositiveFloat | None = None  # Glue: workers x DPU per worker
    hours_per_run: NonNegativeFloat
    runs_per_month: NonNegativeFloat
    spot: bool = False
    region: str | None = None
    note: str = ""  # where the figures came from, shown on the line

    @model_validator(mode="after")
    def _capacity_named(self) -> ScheduledJob:
        if self.service == "glue" and self.dpus is None:
            raise ValueError("a glue job needs dpus")
        if self.service != "glue" and not self.instance_type:
            raise ValueError(f"a {self.service} job needs instance_type")
        return self


class UsageFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    default_region: str | None = None
    defaults: dict[str, ResourceUsage] = Field(default_factory=dict)
    resources: dict[str, ResourceUsage] = Field(default_factory=dict)
    jobs: list[ScheduledJob] = Field(default_factory=list)


@dataclass(frozen=True)
class ResourceKey:
    """The names a usage file may use for one resource."""

    stack: str
    logical_id: str
    resource_type: str
    cdk_path: str = ""

    def names(self) -> list[str]:
        names = [self.logical_id, f"{self.stack}/{self.logical_id}"]
        if self.cdk_path:
            names.append(self.cdk_path)
            if self.cdk_path.endswith("/Resource"):
                names.append(self.cdk_path.removesuffix("/Resource"))
        return names


def load_usage_file(path: Path | str) -> UsageFile:
    target = Path(path)
    try:
        document = yaml.safe_load(target.read_text())
    except OSError as exc:
        raise InputError.single(str(target), f"cannot read usage file ({exc})") from exc
    except yaml.YAMLError as exc:
        raise InputError.single(str(target), f"usage file is not valid YAML ({exc})") from exc
    return parse_usage(document or {}, source=str(target))


def parse_usage(document: Any, *, source: str = "usage") -> UsageFile:
    try:
        return UsageFile.model_validate(document)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(part) for part in error["loc"]), _reason(error)) for error in exc.errors()
        ]
        raise InputError(problems, source) from exc


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "greater_than_equal":
        return f"must be zero or more, got {error.get('input')!r}"
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown field (see lambdas/cost/usage.py for the fields a usage entry takes)"
    return str(error["msg"])


def resolve_usage(
    usage: UsageFile,
    resources: Iterable[ResourceKey],
    applicable_fields: Mapping[str, frozenset[str]],
    *,
    source: str = "usage",
    ignore_unmatched: bool = False,
) -> dict[tuple[str, str], ResourceUsage]:
    """Usage per (stack, logical id): type defaults, then glob keys, then exact keys.

    Raises InputError for a key that matches nothing (unless `ignore_unmatched`: the old side
    of a diff lacks the resources a change adds), a default for a type that is not
    usage-priced, or a field the matched resource type does not use.
    """
    keys = list(resources)
    problems: list[Problem] = []
    for resource_type in usage.defaults:
        if resource_type not in applicable_fields:
            problems.append(
                Problem(f"defaults.{resource_type}", "not a usage-priced resource type; nothing would use it")
            )
    matches: dict[str, list[ResourceKey]] = {}
    for pattern in usage.resources:
        is_glob = _is_glob(pattern)
        matched = [
            k
            for k in keys
            if any((fnmatch.fnmatchcase(n, pattern) if is_glob else n == pattern) for n in k.names())
        ]
        if not matched and not ignore_unmatched:
            problems.append(Problem(f"resources.{pattern}", "matches no resource in the cloud assembly"))
        matches[pattern] = matched

    resolved: dict[tuple[str, str], ResourceUsage] = {}
    for k in keys:
        default = usage.defaults.get(k.resource_type)
        if default is not None:
            resolved[(k.stack, k.logical_id)] = default
    ordered = sorted(usage.resources.items(), key=lambda item: not _is_glob(item[0]))
    for pattern, entry in ordered:
        given = set(entry.model_dump(exclude_none=True))
        targets = matches.get(pattern, [])
        if _is_glob(pattern):
            # A glob spans many types: it applies where its fields make sense.
            targets = [k for k in targets if given <= applicable_fields.get(k.resource_type, frozenset())]
            if matches.get(pattern) and not targets:
                problems.append(
                    Problem(
                        f"resources.{pattern}", f"no matched resource takes all of {', '.join(sorted(given))}"
                    )
                )
        for k in targets:
            allowed = applicable_fields.get(k.resource_type, frozenset())
            unused = sorted(given - allowed)
            if unused:
                what = (
                    ", ".join(sorted(allowed)) if allowed else "no usage fields (its cost is fixed or free)"
                )
                problems.append(
                    Problem(
                        f"resources.{pattern}",
                        f"{', '.join(unused)} do not apply to {k.resource_type} {k.stack}/{k.logical_id}; "
                        f"it takes {what}",
                    )
                )
                continue
            key = (k.stack, k.logical_id)
            resolved[key] = entry.merged_over(resolved.get(key))
    for resource_type, entry in usage.defaults.items():
        type_fields = applicable_fields.get(resource_type)
        if type_fields is None:
            continue
        unused = sorted(set(entry.model_dump(exclude_none=True)) - type_fields)
        if unused:
            problems.append(
                Problem(f"defaults.{resource_type}", f"{', '.join(unused)} do not apply to {resource_type}")
            )
    if problems:
        raise InputError(problems, source)
    return resolved


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")
