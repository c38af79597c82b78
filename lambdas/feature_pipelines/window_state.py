"""Per-entity window state: time-bucketed partial aggregates that fit one DynamoDB item.

Layout (all bounded by the spec):
- ``buckets``: bucket index -> event count plus (count, sum) per numeric field, for the
  buckets still inside the longest window (at most ``max_window_buckets``).
- ``distinct``: per distinct-count field, value hash -> newest bucket index it was seen in.
  This is exact (not a sketch) and needs one entry per distinct value in the longest window
  instead of one per value per bucket; a window's distinct count is the number of entries
  whose bucket lies inside it. It is capped at ``max_distinct_values`` entries: beyond the
  cap the oldest entries are evicted and windows reaching back past them are reported as
  lower bounds. An HLL sketch was rejected because a mergeable sketch per bucket (about
  1 KiB each) times 288 buckets of a 24 h window would not fit a 400 KB item.
- ``seen_ids``: event-id hash -> event time, for ids still within the allowed lateness
  (older events are rejected as late before any lookup). Capped at
  ``max_tracked_event_ids``; evicting raises ``dedupe_floor_ms`` so that an event older
  than what is remembered is rejected rather than possibly counted twice.
- ``emitted_ms``: the event time of the last feature record emitted for the entity.

The state serialises to compact zlib-compressed JSON (``encode``/``decode``).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

STATE_FORMAT_VERSION = 1


@dataclass
class BucketAggregate:
    """Partial aggregates of one bucket: events, and per numeric field its count and sum."""

    events: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)


@dataclass
class DistinctTracker:
    """Newest bucket per distinct value hash, and how far back values may have been evicted."""

    last_bucket: dict[str, int] = field(default_factory=dict)
    evicted_through: int | None = None


@dataclass
class EntityWindowState:
    """Everything remembered about one entity between batches."""

    watermark_ms: int | None = None
    buckets: dict[int, BucketAggregate] = field(default_factory=dict)
    distinct: dict[str, DistinctTracker] = field(default_factory=dict)
    seen_ids: dict[str, int] = field(default_factory=dict)
    dedupe_floor_ms: int | None = None
    # Event time of the last feature record emitted; see windows.emission_time.
    emitted_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_FORMAT_VERSION,
            "w": self.watermark_ms,
            "b": {
                str(idx): [agg.events, {f: [agg.counts[f], agg.sums[f]] for f in agg.counts}]
                for idx, agg in self.buckets.items()
            },
            "d": {f: {"l": t.last_bucket, "e": t.evicted_through} for f, t in self.distinct.items()},
            "s": self.seen_ids,
            "f": self.dedupe_floor_ms,
            "e": self.emitted_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EntityWindowState:
        if data.get("v") != STATE_FORMAT_VERSION:
            raise ValueError(f"window state format {data.get('v')!r} is not {STATE_FORMAT_VERSION}")
        buckets = {
            int(idx): BucketAggregate(
                events=int(events),
                counts={f: int(cs[0]) for f, cs in fields.items()},
                sums={f: float(cs[1]) for f, cs in fields.items()},
            )
            for idx, (events, fields) in data["b"].items()
        }
        distinct = {
            f: DistinctTracker({h: int(i) for h, i in t["l"].items()}, t["e"]) for f, t in data["d"].items()
        }
        return cls(
            watermark_ms=data["w"],
            buckets=buckets,
            distinct=distinct,
            seen_ids={h: int(t) for h, t in data["s"].items()},
            dedupe_floor_ms=data["f"],
            emitted_ms=data.get("e"),
        )

    def encode(self) -> bytes:
        # Level 1: the state is re-encoded per entity per batch; higher levels cost 3x the
        # CPU for a few percent of size, and the caps already bound the item.
        return zlib.compress(json.dumps(self.to_json(), separators=(",", ":")).encode(), level=1)

    @classmethod
    def decode(cls, blob: bytes) -> EntityWindowState:
        return cls.from_json(json.loads(zlib.decompress(blob)))
