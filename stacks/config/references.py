"""Checks that span several parts of the config: unique names and references that resolve."""

from __future__ import annotations

from collections.abc import Iterable

from lambdas.common.errors import Problem
from stacks.config.models import PlatformConfig


def _duplicates(names: Iterable[str], section: str) -> list[Problem]:
    problems, seen = [], set()
    for index, name in enumerate(names):
        if name in seen:
            problems.append(Problem(f"{section}[{index}].name", f"duplicate name {name!r}"))
        seen.add(name)
    return problems


def check_references(config: PlatformConfig) -> list[Problem]:
    problems: list[Problem] = []
    for section in (
        "environments",
        "teams",
        "feature_groups",
        "streaming_sources",
        "models",
        "vector_indexes",
    ):
        problems += _duplicates((item.name for item in getattr(config, section)), section)

    teams = {t.name for t in config.teams}
    groups = {g.name: g for g in config.feature_groups}

    def team_ref(path: str, name: str) -> None:
        if name not in teams:
            problems.append(
                Problem(path, f"team {name!r} is not defined under teams ({', '.join(sorted(teams))})")
            )

    for i, group in enumerate(config.feature_groups):
        team_ref(f"feature_groups[{i}].owner", group.owner)
        if group.entity_key in {f.name for f in group.features}:
            problems.append(
                Problem(f"feature_groups[{i}].entity_key", "the entity key cannot also be a feature")
            )
        if group.batch is not None:
            feature_names = {f.name for f in group.features}
            for j, agg in enumerate(group.batch.aggregations):
                if agg.name not in feature_names:
                    problems.append(
                        Problem(
                            f"feature_groups[{i}].batch.aggregations[{j}].name",
                            f"{agg.name!r} is not a feature of group {group.name!r}",
                        )
                    )

    for i, source in enumerate(config.streaming_sources):
        target = groups.get(source.feature_group)
        if target is None:
            problems.append(
                Problem(
                    f"streaming_sources[{i}].feature_group",
                    f"feature group {source.feature_group!r} is not defined under feature_groups",
                )
            )
            continue
        if source.entity_key != target.entity_key:
            problems.append(
                Problem(
                    f"streaming_sources[{i}].entity_key",
                    f"{source.entity_key!r} differs from group {target.name!r}'s entity key {target.entity_key!r}",
                )
            )
        feature_names = {f.name for f in target.features}
        for j, window in enumerate(source.windows):
            if window.feature not in feature_names:
                problems.append(
                    Problem(
                        f"streaming_sources[{i}].windows[{j}].feature",
                        f"{window.feature!r} is not a feature of group {target.name!r}",
                    )
                )

    for i, model in enumerate(config.models):
        team_ref(f"models[{i}].team", model.team)
        for j, group_name in enumerate(model.feature_groups):
            if group_name not in groups:
                problems.append(
                    Problem(
                        f"models[{i}].feature_groups[{j}]",
                        f"feature group {group_name!r} is not defined under feature_groups",
                    )
                )
        if model.experiment is not None:
            variants = {v.name for v in model.serving.variants}
            if model.experiment.control not in variants:
                problems.append(
                    Problem(
                        f"models[{i}].experiment.control",
                        f"{model.experiment.control!r} is not a variant of model {model.name!r}",
                    )
                )
            if len(variants) < 2:
                problems.append(
                    Problem(f"models[{i}].experiment", "an experiment needs at least two variants")
                )

    for i, index in enumerate(config.vector_indexes):
        team_ref(f"vector_indexes[{i}].team", index.team)
    seen_budget_teams: set[str] = set()
    for i, budget in enumerate(config.budgets):
        team_ref(f"budgets[{i}].team", budget.team)
        if budget.team in seen_budget_teams:
            problems.append(Problem(f"budgets[{i}].team", f"team {budget.team!r} already has a budget"))
        seen_budget_teams.add(budget.team)
    return problems
