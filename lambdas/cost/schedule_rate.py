"""Runs per month of an EventBridge schedule expression: `rate(...)` or `cron(...)`.

Used to turn a platform config's schedules (retraining every 7 days, a Glue job at 02:00)
into monthly quantities. Cron expressions are counted field by field over an average month
(730 h = 30.42 days); day-of-month and day-of-week are treated as independent filters,
which is how EventBridge reads them (one of the two is always `?`).
"""

from __future__ import annotations

import re

from lambdas.common.errors import InputError
from lambdas.cost.catalog import HOURS_PER_MONTH

DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def runs_per_month(expression: str) -> float:
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value = int(rate.group(1))
        if value <= 0:
            raise InputError.single("schedule", f"{expression!r}: a rate must be positive")
        return HOURS_PER_MONTH / (value * _UNIT_HOURS[rate.group(2).rstrip("s")])
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        if len(fields) != 6:
            raise InputError.single(
                "schedule", f"{expression!r}: cron needs 6 fields (min hour dom month dow year)"
            )
        minute, hour, day_of_month, month, day_of_week, _year = fields
        per_day = _count(minute, 0, 59, expression) * _count(hour, 0, 23, expression)
        months = _count(month, 1, 12, expression) / 12.0
        if day_of_month not in ("*", "?"):
            # each selected day of the month comes once a month (29-31 are ignored when short)
            days = float(_count(day_of_month, 1, 31, expression)) if day_of_month != "L" else 1.0
        elif day_of_week not in ("*", "?"):
            days = _count(day_of_week.upper(), 1, 7, expression, names=_WEEKDAYS) * DAYS_PER_MONTH / 7.0
        else:
            days = DAYS_PER_MONTH
        return per_day * days * months
    raise InputError.single("schedule", f"{expression!r}: expected rate(N unit) or cron(...)")


def _count(field: str, low: int, high: int, expression: str, names: dict[str, int] | None = None) -> int:
    """How many values of [low, high] a cron field selects."""
    if field in ("*", "?"):
        return high - low + 1
    selected: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = _int(step_text, expression, names)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _int(first, expression, names), _int(last, expression, names)
        else:
            start = _int(part.rstrip("#L").split("#")[0], expression, names)
            end = high if "/" in field else start
        selected.update(range(start, end + 1, step))
    return len({v for v in selected if low <= v <= high})


def _int(text: str, expression: str, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    try:
        return int(text)
    except ValueError as exc:
        raise InputError.single("schedule", f"{expression!r}: cannot read {text!r}") from exc
