"""The CDK context that the CDK CLI hands to the app, read without starting jsii.

`cdk synth` passes cdk.json's context and every `-c key=value` in the CDK_CONTEXT_JSON
environment variable, or, when that would be too long, in a JSON file named by
CONTEXT_OVERFLOW_LOCATION_ENV; `aws_cdk.App` reads both, the file's keys winning. app.py
reads them the same way before `aws_cdk` is imported, so that parallel synth workers can
start while this process is still starting jsii (stacks/parallel_synth.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CONTEXT_ENV = "CDK_CONTEXT_JSON"
#: Context that skips asset bundling: structural tests and benches need templates, not bundles.
SKIP_BUNDLING: Mapping[str, Any] = {"aws:cdk:bundling-stacks": []}
CONTEXT_OVERFLOW_ENV = "CONTEXT_OVERFLOW_LOCATION_ENV"


class ContextError(Exception):
    """The context the CLI passed cannot be read."""


def cli_context(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The CLI's context, as `aws_cdk.App` would load it."""
    env = os.environ if environ is None else environ
    context: dict[str, Any] = {}
    inline = env.get(CONTEXT_ENV)
    if inline:
        context.update(_object(inline, CONTEXT_ENV))
    overflow = env.get(CONTEXT_OVERFLOW_ENV)
    if overflow:
        try:
            text = Path(overflow).read_text(encoding="utf-8")
        except OSError as error:
            raise ContextError(f"{CONTEXT_OVERFLOW_ENV}: cannot read {overflow} ({error.strerror})") from None
        context.update(_object(text, overflow))
    return context


def _object(text: str, source: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ContextError(f"{source}: not JSON ({error})") from None
    if not isinstance(value, dict):
        raise ContextError(f"{source}: expected a JSON object of context values")
    return value
