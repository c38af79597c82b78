"""Properties that must hold for any input: corrections bound the raw p-values, intervals contain the estimate."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.ab_analysis.corrections import benjamini_hochberg, holm
from lambdas.ab_analysis.frequentist import welch_test
from lambdas.ab_analysis.summaries import Estimate

p_values = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=40)


@given(p_values)
@settings(max_examples=200, deadline=None)
def test_adjusted_p_values_lie_between_raw_and_one_with_bh_never_above_holm(ps: list[float]) -> None:
    h, b = holm(ps), benjamini_hochberg(ps)
    for raw, hv, bv in zip(ps, h, b, strict=True):
        assert raw <= bv + 1e-12 <= hv + 2e-12
        assert hv <= 1.0


@given(
    st.floats(min_value=-1e3, max_value=1e3),
    st.floats(min_value=-1e3, max_value=1e3),
    st.floats(min_value=1e-3, max_value=1e4),
    st.floats(min_value=1e-3, max_value=1e4),
    st.integers(min_value=2, max_value=10**6),
    st.integers(min_value=2, max_value=10**6),
)
@settings(max_examples=200, deadline=None)
def test_welch_interval_contains_the_lift_and_excludes_zero_exactly_when_significant(
    mc: float, mt: float, vc: float, vt: float, nc: int, nt: int
) -> None:
    result = welch_test(Estimate(nc, mc, vc), Estimate(nt, mt, vt), alpha=0.05)
    low, high = result.ci_absolute
    assert low <= result.lift.absolute <= high
    if abs(result.p_value - 0.05) > 1e-9 and math.isfinite(result.lift.df):
        assert (result.p_value < 0.05) == (low > 0 or high < 0)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def engine_inputs(draw: st.DrawFn) -> dict[str, object]:
    variants = ["A", "B", "C"][: draw(st.integers(min_value=2, max_value=3))]
    metrics = []
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["mean", "proportion"]))
        data = {}
        for v in variants:
            n = draw(st.integers(min_value=2, max_value=10**5))
            if kind == "mean":
                mean = draw(finite)
                var = draw(st.floats(min_value=0.0, max_value=1e6))
                data[v] = {"n": n, "sum": mean * n, "sum_sq": var * (n - 1) + mean * mean * n}
            else:
                data[v] = {"n": n, "successes": draw(st.integers(min_value=0, max_value=n))}
        metrics.append(
            {"name": f"m{index}", "type": kind, "guardrail": index > 0, "margin": 0.01, "variants": data}
        )
    return {
        "control": "A",
        "weights": {v: 1 / len(variants) for v in variants},
        "sequential": draw(st.booleans()),
        "metrics": metrics,
    }


@given(engine_inputs())
@settings(max_examples=150, deadline=None)
def test_any_valid_input_yields_a_decision_and_strict_json(data: dict[str, object]) -> None:
    import json

    from lambdas.ab_analysis.engine import analyse

    result = analyse(data)
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert result.decision.action.value in {"continue", "ship", "rollback"}
    assert '"p_value_adjusted"' in text


def test_variance_that_underflows_is_treated_as_degenerate_not_a_crash() -> None:
    """Found by hypothesis: sum_sq of 5e-257 made the mSPRT's variance products underflow to 0."""
    data = {
        "control": "A",
        "weights": {"A": 0.5, "B": 0.5},
        "sequential": True,
        "metrics": [
            {
                "name": "m0",
                "type": "mean",
                "variants": {
                    "A": {"n": 2, "sum": 0.0, "sum_sq": 0.0},
                    "B": {"n": 2, "sum": 0.0, "sum_sq": 5.4e-257},
                },
            }
        ],
    }
    from lambdas.ab_analysis.engine import analyse

    result = analyse(data).to_dict()
    assert result["decision"]["action"] == "continue"
    assert result["metrics"][0]["comparisons"]["B"]["p_value"] == 1.0
