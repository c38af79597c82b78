"""CostMonitor and TeamBudget, checked on the synthesized template (bundling skipped)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from constructs_lib.cost_monitor import METRICS_NAMESPACE, CostMonitor
from constructs_lib.secure_bucket import SecureBucket
from constructs_lib.team_budget import TeamBudget

pytestmark = pytest.mark.synth
ENV = cdk.Environment(account="123456789012", region="eu-west-1")


def _build(app: cdk.App) -> tuple[cdk.Stack, CostMonitor]:
    stack = cdk.Stack(app, "Cost", env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    reports = SecureBucket(stack, "Reports", key=key)
    capture = SecureBucket(stack, "Capture", key=key)
    monitor = CostMonitor(
        stack,
        "Monitor",
        report_bucket=reports.bucket,
        report_key=key,
        key=key,
        window=cdk.Duration.days(2),
        default_latency_slo=cdk.Duration.millis(150),
        analysed_buckets=[capture.bucket],
        reserved_concurrent_executions=1,
    )
    topic = sns.Topic(stack, "RiskAlerts", master_key=key, enforce_ssl=True)
    TeamBudget(
        stack,
        "RiskBudget",
        team="risk",
        monthly_limit_usd=6000,
        topic=topic,
        thresholds_percent=[50, 80, 100],
        topic_key=key,
    )
    return stack, monitor


@pytest.fixture(scope="module")
def built() -> tuple[Template, CostMonitor]:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack, monitor = _build(app)
    return Template.from_stack(stack), monitor


def test_cost_function_runs_the_runtime_handler_with_its_settings(built):
    template, _ = built
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "lambdas.cost.runtime_handler.handler",
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "REPORT_BUCKET": Match.any_value(),
                        "REPORT_PREFIX": "cost-reports",
                        "WINDOW_HOURS": "48",
                        "DEFAULT_LATENCY_SLO_MS": "150",
                        "BUCKETS_TO_ANALYSE": Match.any_value(),
                        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                    }
                )
            },
            "ReservedConcurrentExecutions": 1,
        },
    )


def test_cost_function_is_scheduled_daily(built):
    template, _ = built
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"ScheduleExpression": "rate(1 day)", "State": "ENABLED", "Targets": Match.any_value()},
    )


def test_cost_function_may_only_write_under_the_report_prefix(built):
    template, _ = built
    policies = template.find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    puts = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert len(puts) == 1
    assert puts[0]["Resource"]["Fn::Join"][1][-1] == "/cost-reports/*"
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {
        "sagemaker:DescribeEndpoint",
        "sagemaker:ListEndpoints",
        "cloudwatch:GetMetricStatistics",
        "sagemaker:DescribeTrainingJob",
        "kms:GenerateDataKey",
    } <= actions
    assert not any(
        a.startswith(("sagemaker:Create", "sagemaker:Update", "sagemaker:Delete", "s3:Delete"))
        for a in actions
    )


def test_budget_filters_on_team_tag_and_alerts_topic_at_each_threshold(built):
    template, _ = built
    budgets = template.find_resources("AWS::Budgets::Budget")
    assert len(budgets) == 1
    budget = next(iter(budgets.values()))["Properties"]
    data = budget["Budget"]
    assert data["BudgetLimit"] == {"Amount": 6000, "Unit": "USD"}
    assert data["CostFilters"] == {"TagKeyValue": ["user:team$risk"]}
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    alerts = sorted(
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["NotificationsWithSubscribers"]
    )
    assert alerts == [("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    assert all(
        n["Subscribers"][0]["SubscriptionType"] == "SNS" for n in budget["NotificationsWithSubscribers"]
    )


def test_topic_policy_lets_budgets_publish_from_this_account_only(built):
    template, _ = built
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sns:Publish",
                                "Principal": {"Service": "budgets.amazonaws.com"},
                                "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_metric_helpers_point_at_the_emf_namespace(built):
    _, monitor = built
    metric = monitor.metric_cost_per_thousand_inferences("fraud", "blue")
    assert metric.namespace == METRICS_NAMESPACE and metric.metric_name == "CostPerThousandInferences"
    assert metric.dimensions == {"EndpointName": "fraud", "VariantName": "blue"}
    assert monitor.metric_rightsizing_saving().metric_name == "RightSizingMonthlySaving"


def test_bad_budget_props_are_rejected():
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "S", env=ENV)
    topic = sns.Topic(stack, "T")
    with pytest.raises(ValueError, match="monthly_limit_usd must be positive"):
        TeamBudget(stack, "B", team="risk", monthly_limit_usd=0, topic=topic)
    with pytest.raises(ValueError, match="thresholds_percent"):
        TeamBudget(stack, "C", team="risk", monthly_limit_usd=10, topic=topic, thresholds_percent=[])


def test_constructs_pass_cdk_nag():
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    _build(app)
    app.synth()  # raises ValidationFailed on any unacknowledged finding
