"""End-to-end analyses: output shape, decisions and their reasons, sequential looks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lambdas.ab_analysis.engine import analyse
from tests.ab_analysis.experiments import two_arm_input, with_changes
from tests.ab_analysis.sums import mean_input

COMPARISON_KEYS = {
    "lift_absolute",
    "ci_absolute",
    "lift_relative",
    "ci_relative",
    "p_value",
    "p_value_adjusted",
    "chance_to_win",
}


def test_output_has_the_fields_the_issue_promises_and_is_json() -> None:
    out = json.loads(json.dumps(analyse(two_arm_input(lift=0.05)).to_dict()))
    assert set(out["srm"]) >= {"p_value", "mismatch"}
    assert set(out["decision"]) >= {"action", "variant", "reason"}
    for metric in out["metrics"]:
        assert set(metric["comparisons"]) == {"B"}
        assert set(metric["comparisons"]["B"]) >= COMPARISON_KEYS
        assert len(metric["comparisons"]["B"]["ci_absolute"]) == 2


def test_a_clear_winner_with_passing_guardrails_is_shipped() -> None:
    result = analyse(two_arm_input(lift=0.05))
    assert result.decision.action.value == "ship"
    assert result.decision.variant == "B"
    assert "Ship B" in result.decision.reason


def test_a_failed_guardrail_rolls_back_and_names_the_metric_and_variant() -> None:
    result = analyse(two_arm_input(lift=0.05, latency_shift=0.10))
    assert result.decision.action.value == "rollback"
    assert "'latency'" in result.decision.reason
    assert "B" in result.decision.reason
    guardrail = result.metrics[1].comparisons["B"].guardrail
    assert guardrail is not None and guardrail.status.value == "fail"


def test_a_winner_whose_guardrail_is_inconclusive_keeps_running() -> None:
    result = analyse(two_arm_input(lift=0.05, latency_shift=0.0, margin=0.0))
    assert result.decision.action.value == "continue"
    assert "not yet shown non-inferior" in result.decision.reason


def test_sample_ratio_mismatch_blocks_an_otherwise_clear_winner() -> None:
    data = two_arm_input(lift=0.05)
    data["assignments"] = {"A": 4000, "B": 4400}
    result = analyse(data)
    assert result.srm.mismatch
    assert result.decision.action.value == "continue"
    assert result.decision.reason.startswith("Sample ratio mismatch")


def test_every_variant_significantly_worse_rolls_back() -> None:
    result = analyse(two_arm_input(lift=-0.05))
    assert result.decision.action.value == "rollback"
    assert "significantly worse" in result.decision.reason


def test_no_difference_continues_with_the_leader_in_the_reason() -> None:
    result = analyse(two_arm_input(lift=0.0, seed=4))
    assert result.decision.action.value == "continue"
    assert "No significant difference on 'revenue'" in result.decision.reason


def test_fixed_horizon_before_the_planned_sample_does_not_decide() -> None:
    result = analyse(with_changes(two_arm_input(lift=0.05), planned_sample=20000))
    assert result.progress == pytest.approx(0.4)
    assert result.decision.action.value == "continue"
    assert "planned sample" in result.decision.reason


def test_multi_arm_ships_the_best_significant_variant_and_corrects_across_arms() -> None:
    rng = np.random.default_rng(12)
    samples = {"A": rng.normal(10, 4, 3000), "B": rng.normal(10.4, 4, 3000), "C": rng.normal(10.8, 4, 3000)}
    data = {
        "control": "A",
        "weights": {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3},
        "correction": "holm",
        "metrics": [
            {"name": "revenue", "type": "mean", "variants": {v: mean_input(x) for v, x in samples.items()}}
        ],
    }
    result = analyse(data)
    assert result.decision.variant == "C"
    comparisons = result.metrics[0].comparisons
    smaller = min(comparisons.values(), key=lambda c: c.p_value)
    assert smaller.p_value_adjusted == pytest.approx(2 * smaller.p_value)


def test_power_block_reports_required_sample_and_power_at_plan() -> None:
    data = two_arm_input(lift=0.0)
    data["metrics"][0]["mde"] = 0.02
    data["planned_sample"] = 200_000
    comparison = analyse(data).metrics[0].comparisons["B"]
    assert comparison.power is not None
    # sd 4 on a mean of 10 -> 0.2 absolute -> n = 2 * (1.96 + 0.84)^2 * 16 / 0.04 per arm ~ 6280 per arm.
    assert comparison.power["required_sample"] == pytest.approx(12_560, rel=0.05)
    assert comparison.power["power_at_planned_sample"] == pytest.approx(1.0, abs=1e-6)


def test_sequential_state_is_carried_across_looks_through_the_output() -> None:
    first = analyse(two_arm_input(lift=0.0, n=1000, sequential=True, seed=1)).to_dict()
    second_input = two_arm_input(lift=0.0, n=2000, sequential=True, seed=1)
    second_input["state"] = first["state"]
    second = analyse(second_input).to_dict()
    key = "revenue/B"
    assert second["state"]["comparisons"][key]["looks"] == 2
    assert (
        second["state"]["comparisons"][key]["min_p_value"]
        <= first["state"]["comparisons"][key]["min_p_value"]
    )
    assert second["metrics"][0]["comparisons"]["B"]["test"] == "msprt_welch_t"


def test_sequential_guardrail_uses_the_confidence_sequence() -> None:
    result = analyse(two_arm_input(lift=0.05, latency_shift=0.10, sequential=True))
    guardrail = result.metrics[1].comparisons["B"].guardrail
    assert guardrail is not None and guardrail.status.value == "fail"
    assert guardrail.p_value_non_inferiority is None


def test_proportion_and_ratio_metrics_run_through_the_engine() -> None:
    rng = np.random.default_rng(2)
    d = {v: rng.poisson(2, 2000) + 1.0 for v in "AB"}
    m = {v: d[v] * rng.exponential(3, 2000) for v in "AB"}
    data = {
        "control": "A",
        "weights": {"A": 0.5, "B": 0.5},
        "metrics": [
            {
                "name": "conversion",
                "type": "proportion",
                "variants": {"A": {"n": 2000, "successes": 200}, "B": {"n": 2000, "successes": 260}},
            },
            {
                "name": "revenue_per_session",
                "type": "ratio",
                "variants": {
                    v: {
                        "n": 2000,
                        "numerator_sum": float(m[v].sum()),
                        "numerator_sum_sq": float((m[v] ** 2).sum()),
                        "denominator_sum": float(d[v].sum()),
                        "denominator_sum_sq": float((d[v] ** 2).sum()),
                        "sum_product": float((m[v] * d[v]).sum()),
                    }
                    for v in "AB"
                },
            },
        ],
    }
    result = analyse(data)
    conversion, ratio = result.metrics
    assert conversion.comparisons["B"].test == "two_proportion_z"
    assert conversion.comparisons["B"].lift_absolute == pytest.approx(0.03)
    assert ratio.comparisons["B"].test == "z"
    assert ratio.summaries["A"]["mean"] == pytest.approx(m["A"].sum() / d["A"].sum())
