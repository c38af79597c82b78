"""Exceptions whose class names become Step Functions error names (Lambda `errorType`).

The state machine retries and catches by these names, so renaming one is a change to the
state machine's contract.
"""

from __future__ import annotations

#: Error a reviewer's rejection raises in the run waiting for approval (SendTaskFailure).
REJECTED_ERROR = "ModelPackageRejected"


class SpotCapacityError(Exception):
    """Spot capacity or interruption: retry with a new job resuming from checkpoints."""


class TrainingJobFailedError(Exception):
    """The training job failed for a reason another attempt would not fix."""


class DeploymentRolledBackError(Exception):
    """The endpoint update was rolled back by its alarms."""


class DeploymentFailedError(Exception):
    """The endpoint update failed."""
