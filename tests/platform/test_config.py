"""The platform config: the default loads, and every kind of bad config names file, field and reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.config import ConfigError, load_config
from stacks.config.loader import parse_config
from stacks.config.models import duration_seconds

DEFAULT = Path(__file__).resolve().parents[2] / "config" / "default.yaml"


def _default_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT.read_text())


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "bad.yaml")
    return caught.value.lines()


def test_default_config_describes_a_small_complete_platform() -> None:
    config = load_config(DEFAULT)
    assert [e.name for e in config.environments] == ["dev"]
    assert [t.name for t in config.teams] == ["risk"]
    assert [m.name for m in config.models] == ["fraud-detector"]
    assert config.feature_groups and config.vector_indexes and config.budgets
    assert config.models[0].training is not None and config.models[0].training.spot


def test_unknown_key_is_named_with_its_path() -> None:
    data = _default_data()
    data["models"][0]["serving"]["variants"][0]["instance_typo"] = "ml.m5.large"
    assert _problems(data) == [
        "bad.yaml: models[0].serving.variants[0].instance_typo: unknown key (check the spelling; see docs/configuration.md)"
    ]


def test_wrong_type_is_named_with_its_path() -> None:
    data = _default_data()
    data["models"][0]["serving"]["variants"][0]["initial_instance_count"] = "two"
    (line,) = _problems(data)
    assert line.startswith("bad.yaml: models[0].serving.variants[0].initial_instance_count: ")
    assert "integer" in line


def test_unknown_instance_type_lists_the_family_sizes() -> None:
    data = _default_data()
    data["models"][0]["serving"]["variants"][0]["instance_type"] = "ml.m5.huge"
    (line,) = _problems(data)
    assert line.startswith(
        "bad.yaml: models[0].serving.variants[0].instance_type: unknown SageMaker instance type"
    )
    assert "ml.m5.huge" in line and "xlarge" in line


def test_duplicate_names_and_undefined_references_are_each_reported() -> None:
    data = _default_data()
    data["teams"].append(copy.deepcopy(data["teams"][0]))
    data["models"][0]["team"] = "payments"
    data["models"][0]["feature_groups"].append("merchant_profile")
    problems = _problems(data)
    assert "bad.yaml: teams[1].name: duplicate name 'risk'" in problems
    assert any(p.startswith("bad.yaml: models[0].team: team 'payments' is not defined") for p in problems)
    assert (
        "bad.yaml: models[0].feature_groups[2]: feature group 'merchant_profile' is not defined under feature_groups"
        in problems
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: (
                d["models"][0]["serving"]["variants"][0].update(weight=0)
                or d["models"][0]["serving"]["variants"][1].update(weight=0)
            ),
            "models[0].serving: variant weights must sum to a positive value",
        ),
        (
            lambda d: d["models"][0]["serving"]["variants"][1].update(serverless={"memory_size_mb": 2048}),
            "is serverless but also sets instance_type, initial_instance_count, scaling",
        ),
        (
            lambda d: d["models"][0]["serving"].pop("latency_slo_ms"),
            "latency_slo_ms is required when deployment.auto_rollback is on",
        ),
        (
            lambda d: d["models"][0]["training"].update(max_wait="1h"),
            "models[0].training: max_wait (1h) must be greater than max_runtime (2h)",
        ),
        (
            lambda d: d["vector_indexes"][0].update(space_type="cosinesimil"),
            "engine faiss does not accept space_type cosinesimil",
        ),
        (
            lambda d: d["streaming_sources"][0]["windows"][0].update(feature="no_such_feature"),
            "streaming_sources[0].windows[0].feature: 'no_such_feature' is not a feature of group 'card_velocity'",
        ),
        (
            lambda d: d["models"][0]["experiment"].update(control="baseline"),
            "models[0].experiment.control: 'baseline' is not a variant of model 'fraud-detector'",
        ),
    ],
    ids=[
        "weights",
        "serverless-with-instance",
        "slo-missing",
        "spot-wait",
        "faiss-cosine",
        "window-feature",
        "control",
    ],
)
def test_semantic_errors_name_the_field_and_reason(mutate: Any, expected: str) -> None:
    data = _default_data()
    mutate(data)
    problems = _problems(data)
    assert any(expected in p for p in problems), problems


def test_unreadable_and_invalid_yaml_files_are_reported_without_traceback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_config(tmp_path / "nope.yaml")
    assert "cannot read the config file" in str(missing.value)
    broken = tmp_path / "broken.yaml"
    broken.write_text("teams: [\n  - name: x\n")
    with pytest.raises(ConfigError) as invalid:
        load_config(broken)
    assert invalid.value.lines()[0].startswith(f"{broken}: line ")
    assert "not valid YAML" in invalid.value.lines()[0]


def test_durations_parse_and_reject_garbage() -> None:
    assert duration_seconds("90s") == 90
    assert duration_seconds("2h") == 7200
    with pytest.raises(ValueError, match="must be a number followed by"):
        duration_seconds("two hours")


def test_configuration_reference_is_generated_from_the_models() -> None:
    from stacks.config.reference_doc import render

    committed = (DEFAULT.parents[1] / "docs" / "configuration.md").read_text()
    assert committed == render(), "docs/configuration.md is stale: run `make docs`"


@pytest.mark.parametrize(
    ("setting", "limit"),
    [
        ("models_per_serving_stack", 20),
        ("models_per_training_stack", 25),
        ("models_per_monitoring_stack", 30),
    ],
)
def test_shard_sizes_past_what_a_stack_holds_are_refused(setting: str, limit: int) -> None:
    # 30 serving models made a 617-resource stack that CloudFormation (500) refuses.
    data = _default_data()
    data["sharding"] = {setting: limit + 1}
    assert any(f"sharding.{setting}" in p and str(limit) in p for p in _problems(data))
    data["sharding"] = {setting: limit}
    parse_config(data, "ok.yaml")
