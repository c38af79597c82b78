"""The runtime feature store client product teams call: ``get_features``, ``put_records``.

Thin I/O around the pure cores (reads, validation, online_item, offline_files): it
batches, retries and talks to DynamoDB and S3 with boto3, and emits EMF metrics.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common.errors import InputError, Problem
from lambdas.feature_store import metric_names as mn
from lambdas.feature_store import offline_layout as layout
from lambdas.feature_store import online_item
from lambdas.feature_store.online_item import WriteOutcome
from lambdas.feature_store.reads import (
    EntityFeatures,
    FeatureResponse,
    ReadPlan,
    Status,
    assemble,
    chunks,
    count_statuses,
    full_jitter_delay,
    unique_in_order,
)
from lambdas.feature_store.registry import FeatureGroup, RegistrySource, parse_group
from lambdas.feature_store.validation import (
    DEFAULT_MAX_FUTURE_SKEW_MS,
    RejectedRecord,
    ValidRecord,
    validate_record,
)

BATCH_GET_LIMIT = 100
_RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


class MetricsSink(Protocol):
    def emit(self, group: str, values: Mapping[str, tuple[str, float]]) -> None: ...


class EmfMetrics:
    """One EMF record per call, dimensioned by feature group."""

    def __init__(self, namespace: str = mn.NAMESPACE) -> None:
        self.namespace = namespace

    def emit(self, group: str, values: Mapping[str, tuple[str, float]]) -> None:
        # Imported here so the pure read path does not pay for Powertools when unused.
        from aws_lambda_powertools.metrics import EphemeralMetrics

        metrics = EphemeralMetrics(namespace=self.namespace)
        metrics.add_dimension(mn.GROUP_DIMENSION, group)
        for name, (unit, value) in values.items():
            metrics.add_metric(name=name, unit=unit, value=value)
        metrics.flush_metrics()


class NoMetrics:
    def emit(self, group: str, values: Mapping[str, tuple[str, float]]) -> None:
        return None


class GlueRegistry:
    """Feature group definitions read from their Glue tables' parameters, cached per process.

    The construct writes each group's definition into its Glue table (parameter
    ``feature_store.registry``); the Data Catalog is thus both the registry and what Athena
    queries, so the two cannot disagree.
    """

    def __init__(self, glue: Any, database: str, ttl_seconds: float = 300.0) -> None:
        self._glue = glue
        self._database = database
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, FeatureGroup]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> FeatureGroup:
        now = time.monotonic()
        cached = self._cache.get(name)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        try:
            table = self._glue.get_table(DatabaseName=self._database, Name=name)["Table"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityNotFoundException":
                raise
            raise InputError.single(
                "group", f"unknown feature group '{name}': no table in Glue database '{self._database}'"
            ) from None
        definition = table.get("Parameters", {}).get(layout.REGISTRY_PARAMETER)
        if not definition:
            raise InputError.single(
                "group", f"Glue table {self._database}.{name} is not a feature group (no registry parameter)"
            )
        group = parse_group(json.loads(definition))
        with self._lock:
            self._cache[name] = (now, group)
        return group


@dataclass(frozen=True, slots=True)
class PutResult:
    index: int
    entity_id: str | None
    outcome: WriteOutcome
    problems: tuple[Problem, ...] = ()


@dataclass
class PutResponse:
    group: str
    results: list[PutResult]
    offline_keys: list[str] = field(default_factory=list)

    def count(self, outcome: WriteOutcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def rejected(self) -> list[PutResult]:
        return [r for r in self.results if r.outcome is WriteOutcome.REJECTED]


class FeatureStoreClient:
    """Reads and writes one feature store (online table + offline bucket)."""

    def __init__(
        self,
        *,
        table_name: str,
        registry: RegistrySource | None = None,
        glue_database: str | None = None,
        offline_bucket: str | None = None,
        offline_prefix: str = "offline",
        dynamodb: Any = None,
        s3: Any = None,
        max_workers: int = 4,
        deadline_seconds: float = 1.0,
        base_delay_seconds: float = 0.02,
        max_delay_seconds: float = 0.4,
        max_future_skew_ms: int = DEFAULT_MAX_FUTURE_SKEW_MS,
        metrics: MetricsSink | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.table_name = table_name
        self.dynamodb = dynamodb or boto3.client(
            "dynamodb",
            config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=1, read_timeout=2),
        )
        if registry is None:
            if not glue_database:
                raise InputError.single("glue_database", "give a registry or the Glue database that holds it")
            registry = GlueRegistry(boto3.client("glue"), glue_database)
        self.registry: RegistrySource = registry
        self.offline_bucket = offline_bucket
        self.offline_prefix = offline_prefix
        self._s3 = s3
        self.max_workers = max_workers
        self.deadline_seconds = deadline_seconds
        self.base_delay = base_delay_seconds
        self.max_delay = max_delay_seconds
        self.max_future_skew_ms = max_future_skew_ms
        self.metrics = metrics if metrics is not None else EmfMetrics()
        self._monotonic = monotonic
        self._wall_clock_ms = wall_clock_ms
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None, **options: Any) -> FeatureStoreClient:
        """A client configured from the variables the FeatureStore construct hands out:
        FEATURE_STORE_TABLE and FEATURE_STORE_GLUE_DATABASE (readers), plus
        FEATURE_STORE_OFFLINE_BUCKET / FEATURE_STORE_OFFLINE_PREFIX (writers)."""
        import os

        from lambdas.feature_store import settings

        env = os.environ if env is None else env
        missing = [n for n in (settings.ENV_TABLE, settings.ENV_GLUE_DATABASE) if not env.get(n)]
        if missing:
            raise InputError(
                [Problem(n, "environment variable is not set") for n in missing], source="FeatureStoreClient"
            )
        return cls(
            table_name=env[settings.ENV_TABLE],
            glue_database=env[settings.ENV_GLUE_DATABASE],
            offline_bucket=env.get(settings.ENV_BUCKET) or None,
            offline_prefix=env.get(settings.ENV_PREFIX, "offline"),
            **options,
        )

    # -- reads -------------------------------------------------------------------------

    def get_features(
        self,
        group: str,
        entity_ids: Sequence[str],
        features: Sequence[str] | None = None,
        *,
        deadline_seconds: float | None = None,
    ) -> FeatureResponse:
        started = self._monotonic()
        definition = self.registry.get(group)
        plan = ReadPlan(definition, definition.select(list(features) if features is not None else None))
        bad = [i for i, e in enumerate(entity_ids) if not isinstance(e, str) or not e]
        if bad:
            raise InputError(
                [Problem(f"entity_ids[{i}]", "must be a non-empty string") for i in bad],
                source=f"get_features({group})",
            )
        deadline = started + (self.deadline_seconds if deadline_seconds is None else deadline_seconds)
        batches = chunks(unique_in_order(entity_ids), BATCH_GET_LIMIT)
        found: dict[str, EntityFeatures] = {}
        unavailable: dict[str, str] = {}
        round_trips = 0
        if len(batches) <= 1:
            outcomes = [self._read_chunk(plan, batch, deadline) for batch in batches]
        else:
            outcomes = list(self._pool().map(lambda b: self._read_chunk(plan, b, deadline), batches))
        for chunk_found, chunk_unavailable, chunk_trips in outcomes:
            found.update(chunk_found)
            unavailable.update(chunk_unavailable)
            round_trips += chunk_trips
        rows = assemble(plan, entity_ids, found, unavailable)
        counts = count_statuses(rows)
        latency_ms = (self._monotonic() - started) * 1000
        self.metrics.emit(
            group,
            {
                mn.READ_LATENCY: ("Milliseconds", latency_ms),
                mn.ROUND_TRIPS: ("Count", round_trips),
                mn.VALUES_READ: ("Count", sum(counts.values())),
                mn.STALE_VALUES: ("Count", counts[Status.STALE]),
                mn.MISSING_VALUES: ("Count", counts[Status.MISSING]),
                mn.UNAVAILABLE_VALUES: ("Count", counts[Status.UNAVAILABLE]),
            },
        )
        return FeatureResponse(group, rows, round_trips, latency_ms, counts)

    def _read_chunk(
        self, plan: ReadPlan, entity_ids: list[str], deadline: float
    ) -> tuple[dict[str, EntityFeatures], dict[str, str], int]:
        group_name = plan.group.name
        pending = [{online_item.PK: {"S": online_item.partition_key(group_name, e)}} for e in entity_ids]
        found: dict[str, EntityFeatures] = {}
        trips = 0
        attempt = 0
        reason = ""
        while pending:
            try:
                trips += 1
                response = self.dynamodb.batch_get_item(
                    RequestItems={
                        self.table_name: {
                            "Keys": pending,
                            "ProjectionExpression": "pk, event_time, written_at, fp, f",
                        }
                    }
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in _RETRYABLE_CODES:
                    raise
                reason = f"DynamoDB {code}"
            except BotoCoreError as exc:
                reason = f"DynamoDB unreachable: {type(exc).__name__}"
            else:
                now_ms = self._wall_clock_ms()
                for raw in response.get("Responses", {}).get(self.table_name, []):
                    item = online_item.parse_item(group_name, raw)
                    found[item.entity_id] = plan.decode(item, now_ms)
                pending = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
                reason = "throttled: UnprocessedKeys still pending at the deadline"
                if not pending:
                    break
            with self._rng_lock:
                draw = self._rng.random()
            delay = full_jitter_delay(attempt, self.base_delay, self.max_delay, draw)
            attempt += 1
            if self._monotonic() + delay >= deadline:
                break
            self._sleep(delay)
        unavailable = {
            online_item.entity_id_from_key(group_name, key[online_item.PK]["S"]): reason for key in pending
        }
        return found, unavailable, trips

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.max_workers, thread_name_prefix="feature-store"
            )
        return self._executor

    # -- writes ------------------------------------------------------------------------

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = boto3.client("s3")
        return self._s3

    def put_records(self, group: str, records: Sequence[Mapping[str, Any]]) -> PutResponse:
        """Validate, append valid records offline, then write them online conditionally.

        Offline first: the online store then never serves a value the offline history
        lacks. Every valid record goes offline, superseded ones included (a late event is
        still history); file names are content hashes, so a retried batch overwrites.
        """
        if not self.offline_bucket:
            raise InputError.single("offline_bucket", "put_records needs the offline bucket name")
        definition = self.registry.get(group)
        now_ms = self._wall_clock_ms()
        checked = [
            validate_record(definition, rec, i, now_ms, self.max_future_skew_ms)
            for i, rec in enumerate(records)
        ]
        valid = [c for c in checked if isinstance(c, ValidRecord)]
        results: dict[int, PutResult] = {
            c.index: PutResult(c.index, c.entity_id, WriteOutcome.REJECTED, c.problems)
            for c in checked
            if isinstance(c, RejectedRecord)
        }
        offline_keys = self._write_offline(definition, valid, now_ms) if valid else []
        # Records of one entity are written in batch order (so labels and the winner of
        # equal event times are deterministic); different entities are written in parallel.
        by_entity: dict[str, list[ValidRecord]] = {}
        for rec in valid:
            by_entity.setdefault(rec.entity_id, []).append(rec)

        def write_entity(recs: list[ValidRecord]) -> list[tuple[ValidRecord, WriteOutcome]]:
            return [(rec, self._write_online(definition, rec, now_ms)) for rec in recs]

        if len(by_entity) <= 1:
            written = [write_entity(recs) for recs in by_entity.values()]
        else:
            written = list(self._pool().map(write_entity, by_entity.values()))
        for rec, outcome in itertools.chain.from_iterable(written):
            results[rec.index] = PutResult(rec.index, rec.entity_id, outcome)
        response = PutResponse(group, [results[i] for i in range(len(records))], offline_keys)
        self.metrics.emit(
            group,
            {
                mn.RECORDS_WRITTEN: ("Count", response.count(WriteOutcome.WRITTEN)),
                mn.RECORDS_SUPERSEDED: ("Count", response.count(WriteOutcome.SUPERSEDED)),
                mn.RECORDS_UNCHANGED: ("Count", response.count(WriteOutcome.UNCHANGED)),
                mn.RECORDS_REJECTED: ("Count", response.count(WriteOutcome.REJECTED)),
            },
        )
        return response

    def _write_offline(self, group: FeatureGroup, valid: list[ValidRecord], now_ms: int) -> list[str]:
        # pyarrow is only needed by writers; readers must not pay for importing it.
        from lambdas.feature_store.offline_files import offline_files

        keys = []
        for f in offline_files(group, valid, now_ms, self.offline_prefix):
            self.s3.put_object(Bucket=self.offline_bucket, Key=f.key, Body=f.body)
            keys.append(f.key)
        return keys

    def _write_online(self, group: FeatureGroup, rec: ValidRecord, now_ms: int) -> WriteOutcome:
        item = online_item.build_item(group, rec.entity_id, rec.event_time_ms, rec.encoded, now_ms)
        try:
            self.dynamodb.put_item(**online_item.put_item_request(self.table_name, item))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            stored_item: Any = exc.response.get("Item")
            stored = online_item.stored_event_time(stored_item)
            return online_item.classify_condition_failure(stored, rec.event_time_ms)
        return WriteOutcome.WRITTEN
