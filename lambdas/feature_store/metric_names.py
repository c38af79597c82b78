"""CloudWatch metric names the runtime emits (EMF) and the construct's metric_* read."""

from __future__ import annotations

NAMESPACE = "MLPlatform/FeatureStore"
GROUP_DIMENSION = "FeatureGroup"

READ_LATENCY = "ReadLatency"  # Milliseconds per get_features call
ROUND_TRIPS = "ReadRoundTrips"  # BatchGetItem calls per get_features call
VALUES_READ = "ValuesRead"
STALE_VALUES = "StaleValues"
MISSING_VALUES = "MissingValues"
UNAVAILABLE_VALUES = "UnavailableValues"

RECORDS_WRITTEN = "RecordsWritten"
RECORDS_SUPERSEDED = "RecordsSuperseded"
RECORDS_UNCHANGED = "RecordsUnchanged"
RECORDS_REJECTED = "RecordsRejected"
