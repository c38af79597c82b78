"""Pure pieces of the scheduled function: outcome folding, traffic plans, engine input, docs example."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lambdas.ab_analysis.assembly import ERROR_METRIC, LATENCY_METRIC, VariantEndpointStats, engine_input
from lambdas.ab_analysis.engine import analyse
from lambdas.ab_analysis.event import ExperimentConfig
from lambdas.ab_analysis.outcomes import OutcomeTotals
from lambdas.ab_analysis.results import Action, Decision
from lambdas.ab_analysis.traffic import plan_traffic

PHASE_START = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
WINDOW_END = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _fold(lines: list[str]) -> OutcomeTotals:
    totals = OutcomeTotals()
    totals.add_lines(
        lines, source="s3://b/k.jsonl", phase_start=PHASE_START, window_end=WINDOW_END, metrics={"revenue"}
    )
    return totals


def _line(**fields: object) -> str:
    base: dict[str, object] = {"metric": "revenue", "variant": "A", "period_end": "2026-05-01T06:00:00Z"}
    base.update(fields)
    return json.dumps(base)


def test_outcome_lines_add_up_including_covariates() -> None:
    cov = {"sum": 1.0, "sum_sq": 2.0, "sum_product": 3.0}
    totals = _fold(
        [_line(n=2, sum=3.0, sum_sq=5.0, covariate=cov), _line(n=1, sum=4.0, sum_sq=16.0, covariate=cov)]
    )
    assert totals.sums["revenue"]["A"] == {
        "n": 3,
        "sum": 7.0,
        "sum_sq": 21.0,
        "covariate": {"sum": 2.0, "sum_sq": 4.0, "sum_product": 6.0},
    }
    assert totals.lines_used == 2


def test_lines_outside_the_phase_window_or_of_other_metrics_are_ignored() -> None:
    totals = _fold(
        [
            _line(
                n=1, sum=1.0, sum_sq=1.0, period_end="2026-05-01T00:00:00Z"
            ),  # at phase start: previous phase
            _line(n=1, sum=1.0, sum_sq=1.0, period_end="2026-05-01T12:00:01Z"),  # after the window
            _line(n=1, sum=1.0, sum_sq=1.0, metric="clicks"),
            _line(n=1, sum=2.0, sum_sq=4.0, period_end="2026-05-01T12:00:00Z"),  # window end is included
        ]
    )
    assert totals.sums["revenue"]["A"] == {"n": 1, "sum": 2.0, "sum_sq": 4.0}
    assert totals.lines_skipped == 0


def test_malformed_lines_are_skipped_with_line_numbers() -> None:
    totals = _fold(["not json", _line(sum=1.0), _line(n="3"), _line(n=1, period_end="yesterday"), "[1]"])
    assert totals.lines_skipped == 5
    assert totals.problems[0].startswith("s3://b/k.jsonl line 1: not JSON")
    assert "line 2: needs n" in totals.problems[1]
    assert "line 3: n must be a number" in totals.problems[2]
    assert "not an ISO 8601 time" in totals.problems[3]
    assert "revenue" not in totals.sums


def test_ship_moves_one_ramp_step_and_the_last_step_finishes() -> None:
    ship = Decision(Action.SHIP, "wins", "B")
    first = plan_traffic(ship, control="A", variants=["A", "B", "C"], ramp=[10, 50, 100], ramp_step=0)
    assert first.weights == {"A": 0.5, "B": 0.5, "C": 0.0}
    assert (first.ramp_step, first.new_phase, first.finished) == (1, True, False)
    last = plan_traffic(ship, control="A", variants=["A", "B", "C"], ramp=[10, 50, 100], ramp_step=1)
    assert last.weights == {"A": 0.0, "B": 1.0, "C": 0.0}
    assert last.finished


def test_rollback_sends_everything_to_control_and_continue_changes_nothing() -> None:
    back = plan_traffic(
        Decision(Action.ROLLBACK, "bad"), control="A", variants=["A", "B"], ramp=[10, 100], ramp_step=0
    )
    assert back.weights == {"A": 1.0, "B": 0.0} and back.finished
    stay = plan_traffic(
        Decision(Action.CONTINUE, "wait"), control="A", variants=["A", "B"], ramp=[10, 100], ramp_step=0
    )
    assert stay.weights is None and not stay.new_phase


def test_engine_input_adds_endpoint_guardrails_and_uses_invocations_for_srm() -> None:
    config = ExperimentConfig.model_validate(
        {
            "experiment_id": "e",
            "endpoint_name": "ep",
            "control": "A",
            "start_time": "2026-05-01T00:00:00Z",
            "metrics": [{"name": "revenue", "type": "mean"}],
        }
    )
    stats = {
        "A": VariantEndpointStats(invocations=900, errors=2, latency_periods=[20.0, 21.0, 19.5]),
        "B": VariantEndpointStats(invocations=100, errors=1, latency_periods=[22.0, 20.5]),
    }
    sums = {
        "revenue": {
            "A": {"n": 90, "sum": 900.0, "sum_sq": 9500.0},
            "B": {"n": 10, "sum": 101.0, "sum_sq": 1100.0},
        }
    }
    data = engine_input(
        config, weights={"A": 0.9, "B": 0.1}, outcome_sums=sums, endpoint_stats=stats, state=None
    )
    assert data["assignments"] == {"A": 900, "B": 100}
    by_name = {m["name"]: m for m in data["metrics"]}
    assert by_name[ERROR_METRIC]["variants"]["B"] == {"n": 100, "successes": 1}
    assert by_name[LATENCY_METRIC]["variants"]["A"]["n"] == 3
    assert by_name[LATENCY_METRIC]["variants"]["A"]["sum_sq"] == pytest.approx(20.0**2 + 21.0**2 + 19.5**2)
    assert analyse(data).srm.mismatch is False


def test_the_input_example_in_the_docs_is_valid() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ab-testing.md").read_text()
    match = re.search(r"## Input.*?```json\n(.*?)```", doc, re.S)
    assert match is not None
    result = analyse(json.loads(match.group(1)))
    assert {m.name for m in result.metrics} == {"revenue", "conversion", "revenue_per_session", "latency_ms"}
    assert result.metrics[0].cuped_theta is not None
