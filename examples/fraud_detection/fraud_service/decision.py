"""The decision engine: a fraud score and configurable thresholds to approve, review or block.

Pure: no I/O. When the score is missing (feature store outage, endpoint timeout or error)
the documented fallback rule applies: **send to review**, never approve.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Outcome(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    BLOCK = "block"


class Thresholds(BaseModel):
    """Scores below `approve_below` are approved, at or above `block_at` blocked, else reviewed.

    `review_amount_at` sends an otherwise approved transaction of at least that amount to
    review, so a model that has not seen large amounts cannot wave them through.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    approve_below: Annotated[float, Field(ge=0, le=1)] = 0.3
    block_at: Annotated[float, Field(ge=0, le=1)] = 0.9
    review_amount_at: Annotated[float, Field(gt=0)] | None = 10_000.0

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.approve_below > self.block_at:
            raise ValueError(
                f"approve_below ({self.approve_below}) must not exceed block_at ({self.block_at})"
            )
        return self


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    score: float | None
    fallback: bool = False


FALLBACK_REASON = "fallback: {cause}; the documented rule sends the transaction to manual review"


def decide(score: float | None, amount: float, thresholds: Thresholds, *, unavailable: str = "") -> Decision:
    """The decision for one scored (or unscorable) transaction."""
    if score is None or unavailable:
        cause = unavailable or "no score"
        return Decision(Outcome.REVIEW, FALLBACK_REASON.format(cause=cause), score, fallback=True)
    if score >= thresholds.block_at:
        return Decision(Outcome.BLOCK, f"score {score:.3f} >= block_at {thresholds.block_at}", score)
    if score >= thresholds.approve_below:
        return Decision(
            Outcome.REVIEW,
            f"score {score:.3f} between approve_below {thresholds.approve_below} and block_at {thresholds.block_at}",
            score,
        )
    if thresholds.review_amount_at is not None and amount >= thresholds.review_amount_at:
        return Decision(
            Outcome.REVIEW, f"amount {amount} >= review_amount_at {thresholds.review_amount_at}", score
        )
    return Decision(Outcome.APPROVE, f"score {score:.3f} < approve_below {thresholds.approve_below}", score)
