"""A 100-model platform synthesizes with every stack well under CloudFormation's 500-resource limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplatform.cloud_assembly import read_stacks
from stacks.app_builder import SKIP_BUNDLING, build_app
from stacks.config.scaling import with_model_copies

pytestmark = pytest.mark.synth
STACK_RESOURCE_BUDGET = 450


def test_hundred_models_shard_every_stack_under_450_resources(default_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = with_model_copies(default_config, 100)
    app, _ = build_app(config, outdir=str(tmp_path), nag=False, context=SKIP_BUNDLING)
    app.synth()
    stacks = read_stacks(tmp_path)
    sizes = {s.display_name: len(s.resources) for s in stacks}
    assert max(sizes.values()) < STACK_RESOURCE_BUDGET, sizes
    serving = [name for name in sizes if "/Serving-" in name]
    assert len(serving) == 10, sizes
    endpoints = sum(
        1 for s in stacks for r in s.resources.values() if r["Type"] == "AWS::SageMaker::Endpoint"
    )
    assert endpoints == 100
