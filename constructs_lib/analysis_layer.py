"""The numpy + scipy layer shared by the analysis functions (drift, A/B, vector re-ranking).

numpy and scipy unzip to about 136 MB once tests and caches are gone, over half of Lambda's
250 MB limit, so they live in one layer that only analysis functions attach; request-path
functions never carry them.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.platform_function import BundledLayer

ANALYSIS_REQUIREMENTS = ("numpy>=2.2,<3", "scipy>=1.15,<2")


class AnalysisLayer(BundledLayer):
    """numpy + scipy for the function runtime and architecture; one per stack via `of`."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            requirements=ANALYSIS_REQUIREMENTS,
            description="numpy and scipy for the ML platform's analysis functions",
        )

    @classmethod
    def of(cls, scope: Construct) -> AnalysisLayer:
        """The stack's shared analysis layer, created on first use."""
        stack = cdk.Stack.of(scope)
        existing = stack.node.try_find_child("AnalysisLayer")
        if isinstance(existing, AnalysisLayer):
            return existing
        return cls(stack, "AnalysisLayer")
