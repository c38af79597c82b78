"""Window state in DynamoDB, one item per (pipeline, entity), with optimistic concurrency.

Item layout::

    pk       S  "<feature group>#<entity id>"
    state    B  EntityWindowState.encode()  (zlib JSON, bounded by the spec's caps)
    version  N  incremented on every save; the condition that guards concurrent writers
    ttl      N  epoch seconds after which every window and the lateness have passed

A save succeeds only if the version is still the one loaded; otherwise the caller reloads
and re-applies its events (the state is never blindly overwritten).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec
from lambdas.feature_pipelines.window_state import EntityWindowState

PK = "pk"
STATE = "state"
VERSION = "version"
TTL = "ttl"
# Extra day before garbage collection so clock skew never expires a live entity.
_TTL_MARGIN_SECONDS = 86_400


@dataclass(frozen=True)
class LoadedState:
    state: EntityWindowState
    version: int  # 0 when the entity has no item yet


class WindowStateStore:
    """Load and conditionally save per-entity window state."""

    def __init__(self, dynamodb: Any, table_name: str, spec: StreamingFeatureSpec) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._spec = spec

    def key(self, entity: str) -> dict[str, dict[str, str]]:
        return {PK: {"S": f"{self._spec.feature_group}#{entity}"}}

    def load(self, entity: str) -> LoadedState:
        item = self._dynamodb.get_item(TableName=self._table, Key=self.key(entity), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return LoadedState(EntityWindowState(), 0)
        return LoadedState(EntityWindowState.decode(item[STATE]["B"]), int(item[VERSION]["N"]))

    def save(self, entity: str, state: EntityWindowState, loaded_version: int) -> bool:
        """True if saved; False if another writer saved first (reload and retry)."""
        watermark_s = (state.watermark_ms or 0) // 1000
        longest = max(f.window_seconds for f in self._spec.features)
        ttl = watermark_s + longest + self._spec.allowed_lateness_seconds + _TTL_MARGIN_SECONDS
        item = {
            **self.key(entity),
            STATE: {"B": state.encode()},
            VERSION: {"N": str(loaded_version + 1)},
            TTL: {"N": str(ttl)},
        }
        if loaded_version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :loaded",
                "ExpressionAttributeValues": {":loaded": {"N": str(loaded_version)}},
            }
        try:
            self._dynamodb.put_item(TableName=self._table, Item=item, **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
