"""The TrainingStack's mapping from a model's config to the feature store runner's start event."""

from __future__ import annotations

import pytest

from lambdas.feature_store.athena_handler import StartEvent
from stacks.config.loader import load_config
from stacks.config.models import PlatformConfig
from stacks.training_stack import training_set_request


@pytest.fixture(scope="module")
def config() -> PlatformConfig:
    return load_config()


def test_request_joins_the_labels_table_to_every_feature_group_of_the_model(config: PlatformConfig) -> None:
    model = next(m for m in config.models if m.training is not None)
    assert model.training is not None
    request = training_set_request(config, model)
    database, table = model.training.labels_table.split(".")
    assert request["entity_source"] == f'"{database}"."{table}"'
    assert request["timestamp_column"] == model.training.label_timestamp_column
    assert [r["group"] for r in request["requests"]] == model.feature_groups
    # The runner accepts it once the pipeline adds the run's prefix.
    StartEvent.model_validate({**request, "output_uri": "s3://artifacts/retraining/m/run/training-set/"})


def test_groups_that_share_a_feature_name_get_column_prefixes(config: PlatformConfig) -> None:
    model = next(m for m in config.models if m.training is not None)
    first, second = (config.feature_group(name) for name in model.feature_groups[:2])
    clash = second.model_copy(update={"features": [*second.features, first.features[0]]})
    clashing = config.model_copy(
        update={"feature_groups": [clash if g.name == second.name else g for g in config.feature_groups]}
    )
    prefixes = {r["group"]: r["prefix"] for r in training_set_request(clashing, model)["requests"]}
    assert prefixes[first.name] is True and prefixes[second.name] is True
    assert not any(r["prefix"] for r in training_set_request(config, model)["requests"])
