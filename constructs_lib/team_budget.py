"""`TeamBudget`: a monthly AWS Budget over one team's cost-allocation tag, alerting an SNS topic."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

BUDGETS_PRINCIPAL = "budgets.amazonaws.com"


class TeamBudget(Construct):
    """A COST budget filtered on the cost-allocation tag `tag_key=team`.

    Notifications go to `topic` when actual spend passes each percentage of the limit, and
    when the month's forecast passes `forecast_threshold_percent`. The topic's resource
    policy (and its key's policy, if given) let AWS Budgets publish, limited to this account.
    The tag must be activated as a cost-allocation tag in the billing console once per payer
    account; until then the budget sees no spend.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        team: str,
        monthly_limit_usd: float,
        topic: sns.ITopic,
        thresholds_percent: Sequence[float] = (80.0, 100.0),
        forecast_threshold_percent: float | None = 100.0,
        tag_key: str = "team",
        topic_key: kms.IKey | None = None,
        budget_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if monthly_limit_usd <= 0:
            raise ValueError(f"{self.node.path}: monthly_limit_usd must be positive, got {monthly_limit_usd}")
        if not thresholds_percent or any(t <= 0 for t in thresholds_percent):
            raise ValueError(
                f"{self.node.path}: thresholds_percent must be positive percentages, got {thresholds_percent}"
            )
        self.team = team
        self.tag_key = tag_key
        self.monthly_limit_usd = monthly_limit_usd
        account = cdk.Stack.of(self).account

        subscriber = budgets.CfnBudget.SubscriberProperty(address=topic.topic_arn, subscription_type="SNS")
        alerts = [("ACTUAL", float(t)) for t in sorted(set(thresholds_percent))]
        if forecast_threshold_percent is not None:
            alerts.append(("FORECASTED", float(forecast_threshold_percent)))
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_name=budget_name,
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_limit_usd, unit="USD"),
                # Budgets names a user-defined cost-allocation tag as "user:<key>$<value>".
                cost_filters={"TagKeyValue": [f"user:{tag_key}${team}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type=kind,
                        threshold=threshold,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[subscriber],
                )
                for kind, threshold in alerts
            ],
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"AllowBudgets{''.join(ch for ch in team if ch.isalnum())}",
                principals=[iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        if topic_key is not None:
            topic_key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(BUDGETS_PRINCIPAL)],
                    actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": account}},
                )
            )
