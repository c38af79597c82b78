"""Turn the comparisons into one decision with its reason in words.

Order of precedence, most cautious first: a sample ratio mismatch blocks every conclusion;
a failed guardrail rolls back; a fixed-horizon test that has not reached its planned sample
waits (peeking would inflate false positives); every variant significantly worse on the
decision metric rolls back; the best significant winner whose guardrails all pass ships.
"""

from __future__ import annotations

from collections.abc import Sequence

from lambdas.ab_analysis.results import (
    Action,
    ComparisonResult,
    Decision,
    GuardrailStatus,
)
from lambdas.ab_analysis.srm import SrmResult


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2%}"


def _describe(c: ComparisonResult) -> str:
    return (
        f"{c.variant} {_pct(c.lift_relative)} on '{c.metric}' (adjusted p={c.p_value_adjusted:.4f}, "
        f"chance to win {c.chance_to_win:.0%})"
    )


def decide(
    *,
    control: str,
    treatments: Sequence[str],
    srm: SrmResult,
    primary: Sequence[ComparisonResult],
    guardrails: Sequence[ComparisonResult],
    sequential: bool,
    progress: float | None,
) -> Decision:
    if srm.mismatch:
        split = ", ".join(f"{v}={n}" for v, n in srm.observed.items())
        expected = ", ".join(f"{v}={e:.0f}" for v, e in srm.expected.items())
        return Decision(
            Action.CONTINUE,
            f"Sample ratio mismatch (p={srm.p_value:.2e} < {0.001}): observed {split}, expected {expected}. "
            "Assignment or logging is broken, so no conclusion is drawn and traffic is left as it is; "
            "fix the split and restart the experiment.",
        )
    failed = [g for g in guardrails if g.guardrail and g.guardrail.status is GuardrailStatus.FAIL]
    if failed:
        details = "; ".join(
            f"{g.variant} on '{g.metric}' ({_pct(g.lift_relative)}, worse than the "
            f"{g.guardrail.margin:g} {g.guardrail.margin_type} margin)"
            for g in failed
            if g.guardrail
        )
        return Decision(
            Action.ROLLBACK, f"Guardrail failed: {details}. Stop and send all traffic to control {control}."
        )
    if not sequential and progress is not None and progress < 1:
        return Decision(
            Action.CONTINUE,
            f"Fixed-horizon test at {progress:.0%} of its planned sample: decisions are only valid at "
            "the planned sample (or enable sequential testing to look early).",
        )
    winners = [c for c in primary if c.significant and c.effect_in_good_direction > 0]
    losers = [c for c in primary if c.significant and c.effect_in_good_direction < 0]
    if primary and len(losers) == len(treatments):
        details = "; ".join(_describe(c) for c in losers)
        return Decision(
            Action.ROLLBACK,
            f"Every variant is significantly worse than control {control}: {details}. "
            f"Stop and send all traffic to control {control}.",
        )
    if winners:
        best = max(winners, key=lambda c: (c.chance_to_win, c.effect_in_good_direction))
        pending = [
            g
            for g in guardrails
            if g.variant == best.variant and g.guardrail and g.guardrail.status is not GuardrailStatus.PASS
        ]
        if pending:
            names = ", ".join(f"'{g.metric}'" for g in pending)
            return Decision(
                Action.CONTINUE,
                f"{_describe(best)} wins, but guardrail(s) {names} are not yet shown non-inferior; "
                "keep collecting data.",
            )
        return Decision(
            Action.SHIP, f"Ship {best.variant}: {_describe(best)}; all guardrails pass.", best.variant
        )
    if not primary:
        return Decision(Action.CONTINUE, "No decision metric to judge.")
    leader = max(primary, key=lambda c: c.chance_to_win)
    progress_note = f"; {progress:.0%} of the planned sample" if progress is not None else ""
    return Decision(
        Action.CONTINUE,
        f"No significant difference on '{leader.metric}' yet (leader: {_describe(leader)}){progress_note}.",
    )
