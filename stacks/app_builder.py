"""Building the CDK app from a validated platform config (used by app.py, tests and benches)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.cli_context import SKIP_BUNDLING
from stacks.config.models import PlatformConfig
from stacks.platform_stage import PlatformStage
from stacks.stack_layout import SynthPart

__all__ = ["SKIP_BUNDLING", "build_app"]


def build_app(
    config: PlatformConfig,
    *,
    outdir: str | None = None,
    nag: bool = True,
    context: Mapping[str, Any] | None = None,
    part: SynthPart | None = None,
) -> tuple[cdk.App, list[PlatformStage]]:
    """The whole platform, or with `part` one parallel-synth worker's share of it."""
    app = cdk.App(outdir=outdir, context=dict(context or {}))
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stages = [
        PlatformStage(app, env.name, config=config, environment=env, part=part) for env in config.environments
    ]
    return app, stages
