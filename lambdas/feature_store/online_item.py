"""Layout of one online item and the rule for replacing it.

One item per (feature group, entity id)::

    pk          S  "<group>#<entity id>"       partition key, the only key
    event_time  N  epoch milliseconds          when the values were true
    written_at  N  epoch milliseconds          when the store received them
    f           S  codec.encode_record(...)    all of the group's values, version-tagged
    fp          S  FeatureGroup.fingerprint    schema the values were written under
    ttl         N  epoch seconds               garbage collection only (DynamoDB TTL)

Replacement rule: a write succeeds only if no item exists or the stored event time is
strictly older (``CONDITION_EXPRESSION``). An equal event time fails the condition and is
reported as UNCHANGED — the idempotent no-op that makes a retried batch safe; an older
one is SUPERSEDED. Every writer (the runtime client, Spark materialisation, streaming)
uses ``put_item_request`` so they all follow the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from lambdas.feature_store.registry import FeatureGroup

PK = "pk"
EVENT_TIME = "event_time"
WRITTEN_AT = "written_at"
FEATURES = "f"
FINGERPRINT = "fp"
TTL = "ttl"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CONDITION_EXPRESSION = "attribute_not_exists(pk) OR event_time < :new"


class WriteOutcome(StrEnum):
    WRITTEN = "written"
    SUPERSEDED = "superseded"  # the store already holds a newer event time
    UNCHANGED = "unchanged"  # same event time already stored: idempotent no-op
    REJECTED = "rejected"  # failed validation; never sent to the store


def partition_key(group_name: str, entity_id: str) -> str:
    return f"{group_name}#{entity_id}"


def entity_id_from_key(group_name: str, pk: str) -> str:
    return pk[len(group_name) + 1 :]


def to_epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Integer arithmetic: float timestamps lose the last millisecond on some values.
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_epoch_ms(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def build_item(
    group: FeatureGroup,
    entity_id: str,
    event_time_ms: int,
    encoded_features: str,
    written_at_ms: int,
) -> dict[str, dict[str, str]]:
    """The item in DynamoDB's typed attribute format (low-level client / Spark writers)."""
    ttl_seconds = event_time_ms // 1000 + group.online_ttl_seconds
    return {
        PK: {"S": partition_key(group.name, entity_id)},
        EVENT_TIME: {"N": str(event_time_ms)},
        WRITTEN_AT: {"N": str(written_at_ms)},
        FEATURES: {"S": encoded_features},
        FINGERPRINT: {"S": group.fingerprint},
        TTL: {"N": str(ttl_seconds)},
    }


def condition_values(event_time_ms: int) -> dict[str, dict[str, str]]:
    return {":new": {"N": str(event_time_ms)}}


def put_item_request(table_name: str, item: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Keyword arguments for ``dynamodb_client.put_item`` enforcing the replacement rule.

    ALL_OLD on condition failure returns the stored item inside the error so the caller
    can tell UNCHANGED from SUPERSEDED without a second read.
    """
    return {
        "TableName": table_name,
        "Item": item,
        "ConditionExpression": CONDITION_EXPRESSION,
        "ExpressionAttributeValues": condition_values(int(item[EVENT_TIME]["N"])),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def classify_condition_failure(stored_event_time_ms: int | None, new_event_time_ms: int) -> WriteOutcome:
    """Name a failed conditional write from the stored item's event time.

    ``None`` (the stored item could not be returned) can only mean the stored event time
    is >= the new one, so it is reported as SUPERSEDED, the conservative reading.
    """
    if stored_event_time_ms is not None and stored_event_time_ms == new_event_time_ms:
        return WriteOutcome.UNCHANGED
    return WriteOutcome.SUPERSEDED


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An online item read back, not yet decoded."""

    entity_id: str
    event_time_ms: int
    written_at_ms: int
    fingerprint: str
    encoded_features: str


def parse_item(group_name: str, item: dict[str, dict[str, str]]) -> StoredItem:
    return StoredItem(
        entity_id=entity_id_from_key(group_name, item[PK]["S"]),
        event_time_ms=int(item[EVENT_TIME]["N"]),
        written_at_ms=int(item[WRITTEN_AT]["N"]),
        fingerprint=item[FINGERPRINT]["S"],
        encoded_features=item[FEATURES]["S"],
    )


def stored_event_time(item: dict[str, dict[str, str]] | None) -> int | None:
    if not item or EVENT_TIME not in item:
        return None
    return int(item[EVENT_TIME]["N"])
