"""`MonitoringFunctions`: the scheduled drift and performance functions that the
`DriftMonitor`s of a stack share.

A function per monitored model costs each model a function, a role, two policies and a log
group: 100 models would deploy 200 functions and roles, a fifth of an account's default IAM
role quota, for code that is the same for all of them. Monitors given one `MonitoringFunctions`
instead send their model's settings in each scheduled event (``{"time", "monitor"}``, see
`lambdas.common.monitor_event`) and add their own model's reads and writes to the shared
roles, so the functions reach the data of the stack's monitors and nothing else.

Their schedules are shared too (`SharedSchedules`): the models on one schedule share rules, up
to five targets each, instead of a rule (and a Lambda permission) per model and check.

A model's failures (bad settings, a missing baseline, any error the handler sees) count in
its own DriftRunErrors / PerformanceRunErrors metric and alarm. What no handler can count,
a timeout or a crash, fails the shared function: each function has one alarm for that.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import durations
from constructs_lib.alarm_actions import notify
from constructs_lib.analysis_layer import AnalysisLayer
from constructs_lib.platform_function import POWERTOOLS, PYDANTIC, PlatformFunction
from constructs_lib.shared_schedules import SharedSchedules

DRIFT_NAMESPACE = "MLPlatform/Drift"
PERFORMANCE_NAMESPACE = "MLPlatform/ModelPerformance"
DRIFT_HANDLER = "lambdas.drift.handler.handler"
PERFORMANCE_HANDLER = "lambdas.model_monitoring.handler.handler"


class MonitoringFunctions(Construct):
    """One drift function, and on first use one performance function, for a stack's monitors.

    Exposes `drift`, `performance` (created when a monitor first asks for it), `schedules`
    and `alarms` (one per function, on its Errors metric: timeouts and crashes).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        drift_memory_size: int = 2048,
        performance_memory_size: int = 1024,
        timeout: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self._alarm_topic = alarm_topic
        self._performance_memory_size = performance_memory_size
        self._timeout = timeout or durations.minutes(15)
        self.alarms: list[cloudwatch.Alarm] = []
        #: The monitors' schedules: rules shared by the models on the same schedule.
        self.schedules = SharedSchedules(
            self, "Schedules", description="Scheduled drift and performance checks of this stack's models"
        )
        #: Key grants the monitors already made to the shared roles (see DriftMonitor._kms).
        self.key_grants: dict[tuple[int, int, tuple[str, ...]], tuple[object, object]] = {}
        self.drift = PlatformFunction(
            self,
            "Drift",
            handler=DRIFT_HANDLER,
            domains=["drift"],
            requirements=(POWERTOOLS, PYDANTIC),
            layers=[AnalysisLayer.of(self)],
            environment={"POWERTOOLS_METRICS_NAMESPACE": DRIFT_NAMESPACE},
            timeout=self._timeout,
            memory_size=drift_memory_size,
            description="Scheduled drift checks of this stack's models (the model's settings are in each event)",
            key=key,
        )
        self._add_alarm(self.drift, "DriftErrorsAlarm", "drift")
        self._performance: PlatformFunction | None = None

    @property
    def performance(self) -> PlatformFunction:
        """The performance function, created when the first monitor with labels asks for it."""
        if self._performance is None:
            self._performance = PlatformFunction(
                self,
                "Performance",
                handler=PERFORMANCE_HANDLER,
                domains=["model_monitoring", "drift"],
                layers=[AnalysisLayer.of(self)],
                environment={"POWERTOOLS_METRICS_NAMESPACE": PERFORMANCE_NAMESPACE},
                timeout=self._timeout,
                memory_size=self._performance_memory_size,
                description="Model performance of this stack's models from ground-truth labels "
                "(the model's settings are in each event)",
                key=self._key,
            )
            self._add_alarm(self._performance, "PerformanceErrorsAlarm", "performance")
        return self._performance

    def _add_alarm(self, fn: PlatformFunction, construct_id: str, what: str) -> None:
        alarm = fn.function.metric_errors(period=durations.hours(1), statistic="Sum").create_alarm(
            self,
            construct_id,
            alarm_description=f"The shared {what} function failed (a timeout or crash); "
            "its log names the model of the run",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if self._alarm_topic is not None:
            notify(alarm, self._alarm_topic)
        self.alarms.append(alarm)
