"""Point-in-time correct training sets as Athena (Trino) SQL.

For every entity row ``(entity id, timestamp, labels...)`` and every requested group, the
join picks the group's latest offline row with ``event_time <= timestamp`` (never a
future value: no leakage); each feature is then null when that row is older than the
feature's max age — the same PRESENT/STALE cut the online store makes. Equal event times
resolve to the earliest ``written_at``, mirroring the online rule where the first write
of an event time wins.

Shape of the SQL (one CTE per group over the *distinct* entity keys, so the result is
deterministic even though Trino may evaluate a CTE more than once)::

    WITH keys_g AS (SELECT DISTINCT <entity col>, <ts> FROM <entity rows>),
         g AS (SELECT k.*, f.<features>, row_number() OVER (PARTITION BY k.<entity>, k.<ts>
                 ORDER BY f.event_time DESC, f.written_at ASC) AS rk
               FROM keys_g k JOIN <group table> f ON f.<key> = CAST(k.<entity> AS VARCHAR)
                 AND f.event_time <= k.<ts> [AND f.event_time >= k.<ts> - <widest max age>]
                 [AND f.event_date BETWEEN '<from>' AND '<to>'])
    SELECT e.*, CASE WHEN g.event_time >= e.<ts> - INTERVAL '<age>' SECOND THEN g.<f> END AS <f>
    FROM <entity rows> e LEFT JOIN g ON ... AND g.rk = 1

Dialect: the only difference between Athena and DuckDB is how a group's table is named
(``"db"."group"`` versus ``read_parquet('<root>/feature_group=g/*/*.parquet',
hive_partitioning = true)``), passed as ``table_sql``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from lambdas.common.errors import InputError, Problem
from lambdas.feature_store import offline_layout as layout
from lambdas.feature_store.registry import FeatureGroup

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FeatureRequest:
    group: FeatureGroup
    features: tuple[str, ...] | None = None
    # Column of the entity rows holding this group's entity id (default: its entity key).
    entity_column: str | None = None
    # Prefix output columns with "<group>__" (needed when two groups share feature names).
    prefix: bool = False


def quote(identifier: str) -> str:
    if not _IDENTIFIER.match(identifier):
        raise InputError.single("identifier", f"'{identifier}' is not a plain SQL identifier")
    return f'"{identifier}"'


def athena_table(database: str) -> Callable[[FeatureGroup], str]:
    return lambda group: f"{quote(database)}.{quote(layout.glue_table_name(group))}"


def _partition_bounds(ages: Sequence[int | None], time_range: tuple[date, date] | None) -> str:
    if time_range is None:
        return ""
    start, end = time_range
    if not ages or any(a is None for a in ages):
        return f" AND f.{layout.PARTITION_COLUMN} <= '{end.isoformat()}'"
    widest_days = -(-max(a for a in ages if a is not None) // 86400)
    lower = start - timedelta(days=widest_days)
    return f" AND f.{layout.PARTITION_COLUMN} BETWEEN '{lower.isoformat()}' AND '{end.isoformat()}'"


def point_in_time_sql(
    *,
    entity_source: str,
    timestamp_column: str,
    requests: Sequence[FeatureRequest],
    table_sql: Callable[[FeatureGroup], str],
    time_range: tuple[date, date] | None = None,
) -> str:
    """SQL joining entity rows to point-in-time feature values.

    ``entity_source`` is a table reference or parenthesised query whose ``timestamp_column``
    is a TIMESTAMP (UTC). ``time_range`` (first and last entity-row dates), when given,
    adds constant partition bounds on ``event_date`` so Athena reads only the partitions
    the rows can reach.
    """
    if not requests:
        raise InputError.single("requests", "at least one feature group is required")
    ts = quote(timestamp_column)
    ctes: list[str] = []
    selects: list[str] = ["e.*"]
    joins: list[str] = []
    seen_outputs: dict[str, str] = {}
    problems: list[Problem] = []
    for n, request in enumerate(requests):
        group = request.group
        names = group.select(request.features)
        entity = quote(request.entity_column or group.entity_key)
        alias = f"g{n}"
        keys = f"k{n}"
        max_ages = [group.by_name[name].max_age_seconds for name in names]
        lower_bound = ""
        if names and all(a is not None for a in max_ages):
            widest = max(a for a in max_ages if a is not None)
            lower_bound = f" AND f.{layout.EVENT_TIME_COLUMN} >= k.{ts} - INTERVAL '{widest}' SECOND"
        feature_cols = ", ".join(f"f.{quote(name)}" for name in names)
        ctes.append(f"{keys} AS (SELECT DISTINCT {entity}, {ts} FROM {entity_source})")
        ctes.append(
            f"{alias} AS (SELECT k.{entity}, k.{ts}, f.{layout.EVENT_TIME_COLUMN} AS _event_time, {feature_cols}, "
            f"row_number() OVER (PARTITION BY k.{entity}, k.{ts} "
            f"ORDER BY f.{layout.EVENT_TIME_COLUMN} DESC, f.{layout.WRITTEN_AT_COLUMN} ASC) AS _rk "
            f"FROM {keys} k JOIN {table_sql(group)} f "
            f"ON f.{quote(group.entity_key)} = CAST(k.{entity} AS VARCHAR) "
            f"AND f.{layout.EVENT_TIME_COLUMN} <= k.{ts}{lower_bound}{_partition_bounds(max_ages, time_range)})"
        )
        joins.append(
            f"LEFT JOIN {alias} ON {alias}.{entity} = e.{entity} AND {alias}.{ts} = e.{ts} AND {alias}._rk = 1"
        )
        for name, age in zip(names, max_ages, strict=True):
            output = f"{group.name}__{name}" if request.prefix else name
            if output in seen_outputs:
                problems.append(
                    Problem(
                        f"requests[{n}].features.{name}",
                        f"output column '{output}' also comes from group '{seen_outputs[output]}'; "
                        "set prefix=True on one of the requests",
                    )
                )
            seen_outputs[output] = group.name
            value = f"{alias}.{quote(name)}"
            if age is not None:
                value = f"CASE WHEN {alias}._event_time >= e.{ts} - INTERVAL '{age}' SECOND THEN {value} END"
            selects.append(f"{value} AS {quote(output)}")
    if problems:
        raise InputError(problems, source="point-in-time query")
    return (
        "WITH "
        + ",\n".join(ctes)
        + "\nSELECT "
        + ",\n  ".join(selects)
        + f"\nFROM {entity_source} e\n"
        + "\n".join(joins)
    )
