"""Monitoring and analysis stack: drift and performance, A/B analysis, cost, and team budgets."""

from __future__ import annotations

from datetime import UTC, datetime

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib.ab_experiment import (
    AbExperiment,
    ExperimentAnalysis,
    ExperimentMetric,
    cadence_from_rate,
)
from constructs_lib.cost_monitor import CostMonitor
from constructs_lib.drift_monitor import DriftMonitor
from constructs_lib.monitoring_functions import MonitoringFunctions
from constructs_lib.team_budget import TeamBudget
from stacks.config.models import ModelConfig, PlatformConfig
from stacks.foundation_stack import FoundationStack
from stacks.serving_stack import endpoint_name


def _start_time(value: str) -> str:
    """The config's `2026-12-01T00:00Z` as the analysis function's `2026-12-01T00:00:00Z`."""
    return datetime.fromisoformat(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


class MonitoringStack(cdk.Stack):
    """Drift, performance and A/B analysis of a shard of the models; the first shard also holds
    the platform-wide cost monitor and the team budgets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        environment: str,
        models: list[ModelConfig],
        foundation: FoundationStack,
        platform_wide: bool,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        # Imported once here: every monitor of the shard uses the same three buckets.
        self.buckets = {p: foundation.bucket_for(self, p) for p in ("artifacts", "datacapture", "reports")}
        self.drift: dict[str, DriftMonitor] = {}
        self.experiments: dict[str, AbExperiment] = {}
        # One drift and one performance function for the shard, not one of each per model.
        self.shared_functions = (
            MonitoringFunctions(
                self, "SharedMonitors", key=foundation.data_key, alarm_topic=foundation.alarm_topic
            )
            if models
            else None
        )
        # Likewise one A/B analysis function and decisions table for the shard's experiments.
        self.shared_analysis = (
            ExperimentAnalysis(self, "SharedExperiments", key=foundation.data_key)
            if any(m.experiment is not None for m in models)
            else None
        )
        for model in models:
            self.drift[model.name] = self._drift_monitor(config, environment, model, foundation)
            if model.experiment is not None:
                self.experiments[model.name] = self._experiment(config, environment, model, foundation)
        if platform_wide:
            self._cost_and_budgets(config, environment, foundation)

    def _cost_and_budgets(
        self, config: PlatformConfig, environment: str, foundation: FoundationStack
    ) -> None:
        capture, reports, artifacts = (self.buckets[p] for p in ("datacapture", "reports", "artifacts"))
        self.cost = CostMonitor(
            self,
            "Cost",
            report_bucket=reports,
            report_key=foundation.data_key,
            key=foundation.ops_key,
            schedule=events.Schedule.expression(config.cost_report_schedule),
            endpoint_name_prefix=f"{config.name}-{environment}-",
            analysed_buckets=[capture, reports, artifacts],
        )

        self.budget_topics: dict[str, sns.Topic] = {}
        for budget in config.budgets:
            team = config.team(budget.team)
            topic = sns.Topic(
                self,
                f"BudgetTopic-{team.name}",
                display_name=f"{config.name} {environment} budget alerts for {team.name}",
                master_key=foundation.ops_key,
                enforce_ssl=True,
            )
            if team.email:
                topic.add_subscription(subscriptions.EmailSubscription(team.email))
            self.budget_topics[team.name] = topic
            TeamBudget(
                self,
                f"Budget-{team.name}",
                team=team.name,
                monthly_limit_usd=budget.monthly_limit_usd,
                topic=topic,
                # The foundation's key policy already lets Budgets use the ops key.
                topic_key=None,
                thresholds_percent=[float(t) for t in budget.thresholds_percent],
                budget_name=f"{config.name}-{environment}-{team.name}",
            )

    def _drift_monitor(
        self, config: PlatformConfig, environment: str, model: ModelConfig, foundation: FoundationStack
    ) -> DriftMonitor:
        monitoring = model.monitoring
        monitor = DriftMonitor(
            self,
            f"Drift-{model.name}",
            model_name=model.name,
            baseline_bucket=self.buckets["artifacts"],
            baseline_key=f"baselines/{model.name}/profile.json",
            data_bucket=self.buckets["datacapture"],
            data_prefix=f"datacapture/{model.name}/{endpoint_name(config, environment, model)}/",
            results_bucket=self.buckets["reports"],
            results_prefix=f"drift/{model.name}/",
            key=foundation.data_key,
            schedule=events.Schedule.expression(monitoring.drift_schedule),
            drift_config=monitoring.drift_config(),
            alarm_topic=foundation.alarm_topic,
            endpoint_name=endpoint_name(config, environment, model),
            variant_names=[v.name for v in model.serving.variants],
            labels_bucket=self.buckets["reports"],
            labels_prefix=f"labels/{model.name}/",
            shared_functions=self.shared_functions,
        )
        cdk.Tags.of(monitor).add("team", model.team)
        return monitor

    def _experiment(
        self, config: PlatformConfig, environment: str, model: ModelConfig, foundation: FoundationStack
    ) -> AbExperiment:
        experiment = model.experiment
        assert experiment is not None
        construct = AbExperiment(
            self,
            f"Experiment-{model.name}",
            experiment_id=experiment.name,
            endpoint_name=endpoint_name(config, environment, model),
            control_variant=experiment.control,
            start_time=_start_time(experiment.start_time),
            metrics=[
                ExperimentMetric(
                    name=m.name,
                    type=m.type,
                    guardrail=m.guardrail,
                    margin=m.margin,
                    margin_type=m.margin_type,
                    higher_is_better=m.higher_is_better,
                )
                for m in experiment.metrics
            ],
            results_bucket=self.buckets["reports"],
            outcomes_bucket=self.buckets["reports"],
            key=foundation.data_key,
            shared_analysis=self.shared_analysis,
            cadence=cadence_from_rate(experiment.schedule),
            alpha=experiment.alpha,
            sequential=experiment.sequential,
            correction=model.monitoring.correction,  # type: ignore[arg-type]
            planned_sample=experiment.planned_sample,
            ramp=[float(r) for r in experiment.ramp_percent],
            auto_shift=experiment.auto_shift,
        )
        cdk.Tags.of(construct).add("team", model.team)
        return construct
