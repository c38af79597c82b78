"""Bad input: a clear error naming the variant and field, and no analysis."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.ab_analysis.engine import analyse
from lambdas.common.errors import InputError
from tests.ab_analysis.experiments import two_arm_input


def _problems(data: Any) -> str:
    with pytest.raises(InputError) as caught:
        analyse(data)
    return str(caught.value)


def test_zero_count_names_the_variant_and_field() -> None:
    data = two_arm_input()
    data["metrics"][0]["variants"]["B"]["n"] = 0
    assert "metrics.revenue.variants.B.n: must be at least 2, got 0" in _problems(data)


def test_negative_count_is_rejected() -> None:
    data = two_arm_input()
    data["metrics"][0]["variants"]["A"]["n"] = -5
    assert "metrics.revenue.variants.A.n" in _problems(data)


def test_sums_that_imply_a_negative_variance_are_rejected() -> None:
    data = two_arm_input()
    data["metrics"][0]["variants"]["B"]["sum_sq"] = 1.0
    message = _problems(data)
    assert "metrics.revenue.variants.B.sum_sq" in message
    assert "variance would be negative" in message


def test_a_variant_missing_from_a_metric_is_named() -> None:
    data = two_arm_input()
    del data["metrics"][1]["variants"]["B"]
    assert "metrics.latency.variants.B: is missing" in _problems(data)


def test_data_for_a_variant_without_weight_is_named() -> None:
    data = two_arm_input()
    data["metrics"][0]["variants"]["C"] = {"n": 10, "sum": 1, "sum_sq": 1}
    assert "metrics.revenue.variants.C: is not in weights" in _problems(data)


def test_weights_that_do_not_sum_to_one_are_rejected() -> None:
    data = two_arm_input()
    data["weights"] = {"A": 0.5, "B": 0.6}
    assert "weights: must sum to 1" in _problems(data)


def test_an_unknown_metric_type_lists_the_allowed_types() -> None:
    data = two_arm_input()
    data["metrics"][0]["type"] = "median"
    message = _problems(data)
    assert "metrics.revenue.type: unknown value 'median'" in message
    assert "'proportion'" in message


def test_successes_above_n_are_rejected() -> None:
    data = two_arm_input()
    data["metrics"].append(
        {
            "name": "conv",
            "type": "proportion",
            "variants": {"A": {"n": 10, "successes": 3}, "B": {"n": 10, "successes": 11}},
        }
    )
    assert "metrics.conv.variants.B.successes: must be between 0 and n=10" in _problems(data)


def test_ratio_cross_products_outside_cauchy_schwarz_are_rejected() -> None:
    ratio = {
        "n": 10,
        "numerator_sum": 10,
        "numerator_sum_sq": 12,
        "denominator_sum": 10,
        "denominator_sum_sq": 12,
        "sum_product": 30,
    }
    data = {
        "control": "A",
        "weights": {"A": 0.5, "B": 0.5},
        "metrics": [{"name": "rps", "type": "ratio", "variants": {"A": ratio, "B": ratio}}],
    }
    assert "metrics.rps.variants.A.sum_product" in _problems(data)


def test_a_control_without_weight_and_every_problem_are_reported_together() -> None:
    data = two_arm_input()
    data["control"] = "Z"
    data["alpha"] = 2
    data["metrics"][0]["variants"]["B"]["sum"] = "lots"
    message = _problems(data)
    assert "control: 'Z' has no entry in weights" in message
    assert "alpha: must be between 0 and 0.5" in message
    assert "metrics.revenue.variants.B.sum: must be a finite number" in message


def test_only_guardrails_leave_nothing_to_decide_on() -> None:
    data = two_arm_input()
    data["metrics"] = data["metrics"][1:]
    assert "at least one metric that is not a guardrail" in _problems(data)


def test_non_object_input_is_rejected() -> None:
    assert "input: must be an object" in _problems([1, 2])


def test_a_single_unit_cannot_carry_a_cuped_adjustment() -> None:
    variants = {
        v: {"n": 1, "successes": 1, "covariate": {"sum": 1.0, "sum_sq": 1.0, "sum_product": 1.0}}
        for v in "AB"
    }
    data = {
        "control": "A",
        "weights": {"A": 0.5, "B": 0.5},
        "metrics": [{"name": "c", "type": "proportion", "variants": variants}],
    }
    assert "metrics.c.variants.A.n: must be at least 2" in _problems(data)
