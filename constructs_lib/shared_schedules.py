"""`SharedSchedules`: scheduled rules that several models share, up to five targets each.

A schedule per model and check (drift, performance, A/B) made a 100-model platform deploy
about 300 scheduled rules, plus a Lambda permission each, on an event bus whose default quota
is 300 rules. A rule may have five targets, each with its own input, so the models of a
stack that run on the same schedule share rules: each model's target carries that model's
event, and a function is allowed to be invoked once per rule.
"""

from __future__ import annotations

from aws_cdk import aws_events as events
from constructs import Construct

#: EventBridge allows five targets per rule.
MAX_TARGETS_PER_RULE = 5


class SharedSchedules(Construct):
    """Rules keyed by schedule expression; `add` puts a target on one with room left."""

    def __init__(self, scope: Construct, construct_id: str, *, description: str) -> None:
        super().__init__(scope, construct_id)
        self._description = description
        self._open: dict[str, events.Rule] = {}
        self._targets: dict[str, int] = {}
        self.rules: list[events.Rule] = []

    def add(self, schedule: events.Schedule, target: events.IRuleTarget) -> events.Rule:
        """The rule that now also sends `target` its event on `schedule`."""
        expression = schedule.expression_string
        rule = self._open.get(expression)
        if rule is None or self._targets[expression] >= MAX_TARGETS_PER_RULE:
            rule = events.Rule(
                self,
                f"Schedule{len(self.rules) + 1}",
                schedule=schedule,
                description=f"{self._description} ({expression})",
            )
            self.rules.append(rule)
            self._open[expression] = rule
            self._targets[expression] = 0
        rule.add_target(target)
        self._targets[expression] += 1
        return rule


def scheduled_rule(
    scope: Construct,
    construct_id: str,
    *,
    schedule: events.Schedule,
    target: events.IRuleTarget,
    description: str,
    shared: SharedSchedules | None = None,
) -> events.Rule:
    """A target on one of `shared`'s rules when given, else on a rule of its own in `scope`."""
    if shared is not None:
        return shared.add(schedule, target)
    return events.Rule(scope, construct_id, schedule=schedule, targets=[target], description=description)
