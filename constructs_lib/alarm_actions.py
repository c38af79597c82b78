"""Alarm notifications to an SNS topic, with one action object per topic."""

from __future__ import annotations

import weakref

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns

# An SnsAction only names its topic when bound, so one serves every alarm; making one per alarm
# cost a jsii round trip each (three alarms per model).
_ACTIONS: weakref.WeakKeyDictionary[sns.ITopic, cw_actions.SnsAction] = weakref.WeakKeyDictionary()


def notify(alarm: cloudwatch.Alarm, topic: sns.ITopic) -> None:
    """Send `alarm`'s ALARM state changes to `topic`."""
    action = _ACTIONS.get(topic)
    if action is None:
        action = _ACTIONS[topic] = cw_actions.SnsAction(topic)
    alarm.add_alarm_action(action)
