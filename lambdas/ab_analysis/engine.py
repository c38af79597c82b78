"""The analysis pipeline: validated input -> SRM -> per-comparison tests -> corrections -> decision."""

from __future__ import annotations

import math
from typing import Any

from lambdas.ab_analysis import power
from lambdas.ab_analysis.bayesian import bayesian_view
from lambdas.ab_analysis.corrections import adjust
from lambdas.ab_analysis.cuped import cuped_estimates
from lambdas.ab_analysis.decision import decide
from lambdas.ab_analysis.frequentist import (
    FixedTest,
    critical_value,
    non_inferiority_p,
    two_proportion_test,
    welch_test,
    z_test,
)
from lambdas.ab_analysis.results import (
    AnalysisResult,
    ComparisonResult,
    GuardrailCheck,
    GuardrailStatus,
    MetricResult,
)
from lambdas.ab_analysis.sequential import DEFAULT_TUNING_N, SequentialState
from lambdas.ab_analysis.spec import ExperimentSpec, MarginType, MetricSpec, MetricType, parse_experiment
from lambdas.ab_analysis.srm import sample_ratio_mismatch
from lambdas.ab_analysis.summaries import Estimate, MeanSums, ProportionSums


def analyse(data: Any) -> AnalysisResult:
    """Validate a JSON-like input and analyse it; bad input raises ``InputError``."""
    return run(parse_experiment(data))


def _estimates(metric: MetricSpec) -> tuple[dict[str, Estimate], float | None]:
    where = f"metrics.{metric.name}"
    adjustable = {v: s for v, s in metric.variants.items() if isinstance(s, MeanSums | ProportionSums)}
    if metric.uses_cuped and len(adjustable) == len(metric.variants):
        return cuped_estimates(adjustable, where)
    return {v: s.estimate(f"{where}.variants.{v}") for v, s in metric.variants.items()}, None


def _fixed_test(metric: MetricSpec, control: Estimate, treatment: Estimate, alpha: float) -> FixedTest:
    if metric.type is MetricType.PROPORTION and not metric.uses_cuped:
        return two_proportion_test(control, treatment, alpha)
    if metric.type is MetricType.RATIO:
        return z_test(control, treatment, alpha)
    return welch_test(control, treatment, alpha)


def _guardrail(
    metric: MetricSpec,
    test: FixedTest,
    interval_abs: tuple[float, float],
    interval_rel: tuple[float, float] | None,
    alpha: float,
    sequential: bool,
) -> GuardrailCheck:
    relative = metric.margin_type is MarginType.RELATIVE
    lf = test.lift
    if relative and lf.relative is None:
        return GuardrailCheck(
            GuardrailStatus.INCONCLUSIVE,
            metric.margin,
            metric.margin_type.value,
            None,
            None,
            "relative margin undefined: the control mean is 0; use margin_type 'absolute'",
        )
    estimate = lf.relative if relative else lf.absolute
    se = lf.relative_se if relative else lf.absolute_se
    assert estimate is not None and se is not None
    sign = 1.0 if metric.higher_is_better else -1.0
    p_ni: float | None = None
    if sequential:
        low, high = interval_rel if relative and interval_rel else interval_abs
        good_low, good_high = (low, high) if sign > 0 else (-high, -low)
    else:
        # One-sided (1 - alpha) bounds of the effect in the good direction.
        one_sided = critical_value(2 * alpha, lf.df) * se
        good_low, good_high = sign * estimate - one_sided, sign * estimate + one_sided
        p_ni = non_inferiority_p(sign * estimate, metric.margin, se, lf.df)
    if good_low > -metric.margin:
        status = GuardrailStatus.PASS
    elif good_high < -metric.margin:
        status = GuardrailStatus.FAIL
    else:
        status = GuardrailStatus.INCONCLUSIVE
    return GuardrailCheck(status, metric.margin, metric.margin_type.value, good_low, p_ni)


def _power(
    spec: ExperimentSpec,
    metric: MetricSpec,
    control: Estimate,
    treatment: Estimate,
    treatment_name: str,
) -> dict[str, float | None] | None:
    if metric.mde is None and spec.planned_sample is None:
        return None
    w_c = spec.weights[spec.control]
    w_t = spec.weights[treatment_name]
    share = w_c / (w_c + w_t)
    pair_n = control.n + treatment.n
    scale = abs(control.mean) if control.mean != 0 else None
    mde_now = power.minimum_detectable_effect(
        pair_n, control.variance, treatment.variance, control_share=share, alpha=spec.alpha, power=spec.power
    )
    out: dict[str, float | None] = {
        "mde_absolute_at_current_sample": mde_now,
        "mde_relative_at_current_sample": mde_now / scale if scale else None,
    }
    if metric.mde is not None and scale:
        effect = metric.mde * scale
        sized = power.sequential_required_sample_size if spec.sequential else power.required_sample_size
        pair_needed = sized(
            effect,
            control.variance,
            treatment.variance,
            control_share=share,
            alpha=spec.alpha,
            power=spec.power,
        )
        # The pair sees only its share of the experiment's traffic.
        out["required_sample"] = math.ceil(pair_needed / (w_c + w_t))
        if spec.planned_sample is not None:
            powered = power.sequential_power_at if spec.sequential else power.power_at
            out["power_at_planned_sample"] = powered(
                spec.planned_sample * (w_c + w_t),
                effect,
                control.variance,
                treatment.variance,
                control_share=share,
                alpha=spec.alpha,
            )
    return out


def run(spec: ExperimentSpec) -> AnalysisResult:
    counts = spec.unit_counts()
    srm = sample_ratio_mismatch(counts, spec.weights)
    state = SequentialState.from_dict(spec.state, float(spec.planned_sample or DEFAULT_TUNING_N))
    metrics: list[MetricResult] = []
    for metric in spec.metrics:
        estimates, theta = _estimates(metric)
        result = MetricResult(
            name=metric.name,
            type=metric.type.value,
            guardrail=metric.guardrail,
            primary=metric is spec.primary_metric,
            higher_is_better=metric.higher_is_better,
            cuped_theta=theta,
            summaries={v: {"n": e.n, "mean": e.mean, "variance": e.variance} for v, e in estimates.items()},
        )
        control = estimates[spec.control]
        for variant in spec.treatments:
            treatment = estimates[variant]
            test = _fixed_test(metric, control, treatment, spec.alpha)
            p_value, ci_abs, ci_rel = test.p_value, test.ci_absolute, test.ci_relative
            if spec.sequential:
                lf = test.lift
                look = state.observe(
                    f"{metric.name}/{variant}",
                    estimate=lf.absolute,
                    variance=lf.absolute_variance,
                    relative=lf.relative,
                    relative_variance=lf.relative_se**2 if lf.relative_se is not None else None,
                    total_n=control.n + treatment.n,
                    alpha=spec.alpha,
                )
                p_value, ci_abs, ci_rel = look.p_value, look.ci_absolute, look.ci_relative
            view = bayesian_view(test.lift.absolute, test.lift.absolute_se, metric.higher_is_better)
            comparison = ComparisonResult(
                metric=metric.name,
                variant=variant,
                test=("msprt_" if spec.sequential else "") + test.kind.value,
                lift_absolute=test.lift.absolute,
                ci_absolute=ci_abs,
                lift_relative=test.lift.relative,
                ci_relative=ci_rel,
                p_value=p_value,
                chance_to_win=view.chance_to_win,
                expected_loss=view.expected_loss,
                higher_is_better=metric.higher_is_better,
            )
            if metric.guardrail:
                comparison.guardrail = _guardrail(metric, test, ci_abs, ci_rel, spec.alpha, spec.sequential)
            comparison.power = _power(spec, metric, control, treatment, variant)
            result.comparisons[variant] = comparison
        metrics.append(result)
    _apply_corrections(spec, metrics)
    progress = power.progress(sum(counts.values()), spec.planned_sample) if spec.planned_sample else None
    primary = next((m for m in metrics if m.primary), None)
    decision = decide(
        control=spec.control,
        treatments=spec.treatments,
        srm=srm,
        primary=list(primary.comparisons.values()) if primary else [],
        guardrails=[c for m in metrics if m.guardrail for c in m.comparisons.values()],
        sequential=spec.sequential,
        progress=progress,
    )
    return AnalysisResult(
        control=spec.control,
        alpha=spec.alpha,
        sequential=spec.sequential,
        correction=spec.correction.value,
        srm=srm,
        decision=decision,
        metrics=metrics,
        progress=progress,
        state=state.to_dict() if spec.sequential else None,
    )


def _apply_corrections(spec: ExperimentSpec, metrics: list[MetricResult]) -> None:
    """Adjust across every non-guardrail metric x variant; guardrails keep their raw p-values.

    Guardrails answer a safety question, where an uncorrected (more sensitive) test errs on
    the side of stopping.
    """
    family = [c for m in metrics if not m.guardrail for c in m.comparisons.values()]
    for comparison, adjusted in zip(
        family, adjust([c.p_value for c in family], spec.correction), strict=True
    ):
        comparison.p_value_adjusted = adjusted
        comparison.significant = adjusted < spec.alpha
    for m in metrics:
        if m.guardrail:
            for c in m.comparisons.values():
                c.p_value_adjusted = c.p_value
                c.significant = c.p_value < spec.alpha
