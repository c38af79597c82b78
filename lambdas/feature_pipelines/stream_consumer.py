"""One Kinesis batch through the window logic: parse, apply per entity, save, emit.

Order of effects per entity, chosen so that any failure is safe to retry:
1. load state, apply the batch's events, save conditionally (on a version conflict,
   reload and re-apply, since another invocation got there first);
2. write the entity's features with ``put_records``, also when every event was a
   duplicate: a retry after a failed feature write then re-emits from the saved state.
Records of an entity whose state or features could not be written are reported as batch
item failures; Lambda retries from the first of them and de-duplication by event id
makes the re-delivered events no-ops.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common.errors import InputError
from lambdas.feature_pipelines.dead_letters import DeadLetter, DeadLetterQueue
from lambdas.feature_pipelines.state_store import WindowStateStore
from lambdas.feature_pipelines.stream_events import StreamEvent, parse_event
from lambdas.feature_pipelines.stream_records import feature_record
from lambdas.feature_pipelines.window_spec import StreamingFeatureSpec
from lambdas.feature_pipelines.windows import (
    REJECTION_REASONS,
    Outcome,
    advance_emission,
    apply_events,
    feature_values,
)
from lambdas.feature_store.registry import FeatureGroup

MAX_STATE_ATTEMPTS = 4


class FeatureWriter(Protocol):
    """The slice of the feature store client the consumer uses."""

    def put_records(self, group: str, records: Sequence[Mapping[str, Any]]) -> Any: ...


@dataclass(frozen=True)
class KinesisRecord:
    """The parts of a Kinesis event record the consumer needs."""

    sequence_number: str
    partition_key: str
    data_base64: str
    arrival_ms: int | None
    event_source_arn: str = ""

    @classmethod
    def from_event(cls, record: Mapping[str, Any]) -> KinesisRecord:
        kinesis = record["kinesis"]
        arrival = kinesis.get("approximateArrivalTimestamp")
        return cls(
            sequence_number=kinesis["sequenceNumber"],
            partition_key=kinesis.get("partitionKey", ""),
            data_base64=kinesis.get("data", ""),
            arrival_ms=None if arrival is None else round(float(arrival) * 1000),
            event_source_arn=record.get("eventSourceARN", ""),
        )


@dataclass(frozen=True)
class EntityResult:
    """One entity's batch: outcomes per event (None: give up, retry), the record to write."""

    outcomes: list[Outcome] | None
    record: dict[str, Any] | None
    conflicts: int = 0
    lower_bounds: int = 0
    error: str = ""


@dataclass
class BatchReport:
    """What happened to a batch; `failed` are the sequence numbers Lambda must retry."""

    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    malformed: int = 0
    state_conflicts: int = 0
    lower_bound_features: int = 0
    feature_outcomes: dict[str, int] = field(default_factory=dict)
    feature_rejections: list[str] = field(default_factory=list)
    feature_write_error: str = ""
    state_errors: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)


class StreamConsumer:
    def __init__(
        self,
        *,
        spec: StreamingFeatureSpec,
        group: FeatureGroup,
        states: WindowStateStore,
        features: FeatureWriter,
        dead_letters: DeadLetterQueue,
        max_workers: int = 8,
    ) -> None:
        self.spec = spec
        self.group = group
        self.states = states
        self.features = features
        self.dead_letters = dead_letters
        self.max_workers = max_workers

    def parse(self, record: KinesisRecord) -> StreamEvent | DeadLetter:
        """The event, or a dead letter naming why the record is malformed."""

        def letter(reason: str, problems: Sequence[str] = ()) -> DeadLetter:
            return DeadLetter(
                record.sequence_number,
                reason,
                tuple(problems),
                record.partition_key,
                record.event_source_arn,
                record.data_base64,
            )

        try:
            payload = json.loads(base64.b64decode(record.data_base64, validate=True))
        except (ValueError, UnicodeDecodeError) as exc:
            return letter(f"malformed: record data is not base64-encoded JSON ({exc})")
        try:
            return parse_event(payload, self.spec, arrival_ms=record.arrival_ms, source="event")
        except InputError as exc:
            return letter("malformed: event does not match the streaming spec", exc.lines())

    def process(
        self, parsed: Sequence[tuple[KinesisRecord, StreamEvent]], report: BatchReport
    ) -> list[DeadLetter]:
        """Apply events per entity in stream order; returns the letters for rejected events."""
        by_entity: dict[str, list[tuple[KinesisRecord, StreamEvent]]] = defaultdict(list)
        for record, event in parsed:
            by_entity[event.entity].append((record, event))
        letters: list[DeadLetter] = []
        records: list[dict[str, Any]] = []
        entity_of_record: list[str] = []
        entities = list(by_entity)

        def apply(entity: str) -> EntityResult:
            return self._apply_entity(entity, [event for _, event in by_entity[entity]])

        # State reads and writes are I/O bound: entities are independent, so they overlap.
        if len(entities) > 1 and self.max_workers > 1:
            with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="window-state") as pool:
                results = list(pool.map(apply, entities))
        else:
            results = [apply(entity) for entity in entities]
        for entity, result in zip(entities, results, strict=True):
            items = by_entity[entity]
            report.state_conflicts += result.conflicts
            report.lower_bound_features += result.lower_bounds
            if result.outcomes is None:
                report.failed.update(record.sequence_number for record, _ in items)
                if result.error:
                    report.state_errors.append(f"{entity}: {result.error}")
                continue
            outcomes, record_out = result.outcomes, result.record
            for (record, _), outcome in zip(items, outcomes, strict=True):
                report.outcomes[outcome.value] += 1
                if outcome in REJECTION_REASONS:
                    letters.append(
                        DeadLetter(
                            record.sequence_number,
                            f"{outcome.value}: {REJECTION_REASONS[outcome]}",
                            (),
                            record.partition_key,
                            record.event_source_arn,
                            record.data_base64,
                        )
                    )
            if record_out is not None:
                records.append(record_out)
                entity_of_record.append(entity)
        if records:
            self._write_features(records, entity_of_record, by_entity, report)
        return letters

    def _apply_entity(self, entity: str, events: list[StreamEvent]) -> EntityResult:
        conflicts = 0
        try:
            for _ in range(MAX_STATE_ATTEMPTS):
                loaded = self.states.load(entity)
                state = loaded.state
                outcomes = apply_events(state, events, self.spec)
                emit_ms = advance_emission(state, outcomes)
                accepted = any(o is Outcome.ACCEPTED for o in outcomes)
                if accepted and not self.states.save(entity, state, loaded.version):
                    conflicts += 1
                    continue
                values = feature_values(entity, state, self.spec)
                if values is None or emit_ms is None:
                    return EntityResult(outcomes, None, conflicts)
                record = feature_record(self.group, values, emit_ms)
                return EntityResult(outcomes, record, conflicts, len(values.lower_bounds))
        except (ClientError, BotoCoreError) as exc:
            # Throttling that outlasted botocore's retries: this entity's records retry.
            return EntityResult(None, None, conflicts, error=f"{type(exc).__name__}: {exc}")
        return EntityResult(None, None, conflicts, error=f"{conflicts} state version conflicts in a row")

    def _write_features(
        self,
        records: list[dict[str, Any]],
        entity_of_record: list[str],
        by_entity: Mapping[str, list[tuple[KinesisRecord, StreamEvent]]],
        report: BatchReport,
    ) -> None:
        try:
            response = self.features.put_records(self.group.name, records)
        except Exception as exc:
            # Transient store failure (throttling, network): the entities' records retry,
            # and their saved state re-emits the same features on the retry.
            report.feature_write_error = f"{type(exc).__name__}: {exc}"
            for entity in entity_of_record:
                report.failed.update(record.sequence_number for record, _ in by_entity[entity])
            return
        for result in response.results:
            key = str(result.outcome)
            report.feature_outcomes[key] = report.feature_outcomes.get(key, 0) + 1
            if result.problems:
                report.feature_rejections.append(
                    f"{result.entity_id}: " + "; ".join(map(str, result.problems))
                )

    def consume(self, records: Sequence[KinesisRecord]) -> BatchReport:
        """Everything for one batch; the caller turns ``report.failed`` into batch item failures."""
        report = BatchReport()
        parsed: list[tuple[KinesisRecord, StreamEvent]] = []
        letters: list[DeadLetter] = []
        for record in records:
            result = self.parse(record)
            if isinstance(result, DeadLetter):
                report.malformed += 1
                letters.append(result)
            else:
                parsed.append((record, result))
        letters.extend(self.process(parsed, report))
        if letters:
            report.failed.update(self.dead_letters.send(letters))
        return report
