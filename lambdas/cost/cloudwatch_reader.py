"""CloudWatch statistics over a window, with percentiles that degrade to a labelled Maximum.

Percentiles come from ExtendedStatistics. Where a backend does not return them (metrics
published without enough samples, or moto), the reader falls back to Maximum, which bounds
any percentile from above, and says so: a latency guard then errs towards not downsizing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Dimensions = Mapping[str, str]


@dataclass(frozen=True)
class Percentile:
    value: float
    is_maximum: bool  # the percentile was unavailable; this is the Maximum


class MetricReader:
    def __init__(self, client: Any, start: datetime, end: datetime, period_seconds: int = 3600) -> None:
        self._client = client
        self._start = start
        self._end = end
        self._period = period_seconds

    def _datapoints(
        self, namespace: str, name: str, dimensions: Dimensions, **stats: Any
    ) -> list[dict[str, Any]]:
        response = self._client.get_metric_statistics(
            Namespace=namespace,
            MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
            StartTime=self._start,
            EndTime=self._end,
            Period=self._period,
            **stats,
        )
        return list(response.get("Datapoints", []))

    def total(self, namespace: str, name: str, dimensions: Dimensions) -> float:
        points = self._datapoints(namespace, name, dimensions, Statistics=["Sum"])
        return float(sum(p.get("Sum", 0.0) for p in points))

    def average(self, namespace: str, name: str, dimensions: Dimensions) -> float | None:
        """Sample-weighted average over the whole window."""
        points = self._datapoints(namespace, name, dimensions, Statistics=["Sum", "SampleCount"])
        samples = sum(float(p.get("SampleCount", 0.0)) for p in points)
        return sum(float(p.get("Sum", 0.0)) for p in points) / samples if samples > 0 else None

    def peak_period_average(self, namespace: str, name: str, dimensions: Dimensions) -> float | None:
        """The busiest period's average: instances are sized for the peak hour, not the mean."""
        points = self._datapoints(namespace, name, dimensions, Statistics=["Average"])
        values = [float(p["Average"]) for p in points if "Average" in p]
        return max(values) if values else None

    def latest_average(self, namespace: str, name: str, dimensions: Dimensions) -> float | None:
        points = self._datapoints(namespace, name, dimensions, Statistics=["Average"])
        points = [p for p in points if "Average" in p]
        if not points:
            return None
        return float(max(points, key=lambda p: p["Timestamp"])["Average"])

    def percentile(
        self, namespace: str, name: str, dimensions: Dimensions, label: str = "p99"
    ) -> Percentile | None:
        points = self._datapoints(namespace, name, dimensions, ExtendedStatistics=[label])
        values = [
            float(p["ExtendedStatistics"][label]) for p in points if label in p.get("ExtendedStatistics", {})
        ]
        if values:
            # the worst period's percentile: a latency guard must hold in every hour
            return Percentile(max(values), False)
        maximum = self._datapoints(namespace, name, dimensions, Statistics=["Maximum"])
        peaks = [float(p["Maximum"]) for p in maximum if "Maximum" in p]
        return Percentile(max(peaks), True) if peaks else None


def variant_dimensions(endpoint: str, variant: str) -> dict[str, str]:
    return {"EndpointName": endpoint, "VariantName": variant}


def split_csv(value: str | None) -> Sequence[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]
