"""Storage-class savings for a bucket from its CloudWatch storage metrics.

S3's daily BucketSizeBytes per StorageType says how much sits in each class, not how often
it is read; the saving of moving Standard data to Intelligent-Tiering therefore rests on an
assumed cold fraction, which the report states, next to the upper bound (all of it cold).
Intelligent-Tiering neither monitors nor tiers objects under 128 KB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from lambdas.cost.catalog import PriceCatalog

GIB = 1024.0**3
MIN_TIERED_OBJECT_BYTES = 128 * 1024
# CloudWatch StorageType -> catalog storage class
STORAGE_TYPES = {
    "StandardStorage": "STANDARD",
    "StandardIAStorage": "STANDARD_IA",
    "OneZoneIAStorage": "ONEZONE_IA",
    "IntelligentTieringFAStorage": "INTELLIGENT_TIERING",
    "IntelligentTieringIAStorage": "INTELLIGENT_TIERING_IA",
    "GlacierInstantRetrievalStorage": "GLACIER_IR",
    "GlacierStorage": "GLACIER",
    "DeepArchiveStorage": "DEEP_ARCHIVE",
}


@dataclass(frozen=True)
class BucketStorage:
    bucket: str
    bytes_by_storage_type: Mapping[str, float]
    object_count: float


@dataclass(frozen=True)
class TieringSaving:
    bucket: str
    monthly_storage_cost_usd: float | None
    standard_gib: float
    estimated_saving_usd: float
    upper_bound_saving_usd: float
    assumed_cold_fraction: float
    recommendation: str
    unpriced_storage_types: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tiering_saving(
    storage: BucketStorage,
    catalog: PriceCatalog,
    region: str,
    *,
    assumed_cold_fraction: float = 0.5,
    minimum_saving_usd: float = 1.0,
) -> TieringSaving:
    total = 0.0
    unpriced: list[str] = []
    for storage_type, size in storage.bytes_by_storage_type.items():
        storage_class = STORAGE_TYPES.get(storage_type)
        price = catalog.price("s3", f"storage:{storage_class}", region) if storage_class else None
        if price is None:
            unpriced.append(storage_type)
            continue
        total += size / GIB * price.usd
    standard_bytes = storage.bytes_by_storage_type.get("StandardStorage", 0.0)
    standard_gib = standard_bytes / GIB
    standard = catalog.price("s3", "storage:STANDARD", region)
    infrequent = catalog.price("s3", "storage:INTELLIGENT_TIERING_IA", region)
    monitoring = catalog.price("s3", "intelligent_tiering_monitoring", region)
    if standard is None or infrequent is None or monitoring is None:
        return TieringSaving(
            storage.bucket,
            None,
            standard_gib,
            0.0,
            0.0,
            assumed_cold_fraction,
            f"no S3 prices for {region}",
            unpriced,
        )
    average_object = standard_bytes / storage.object_count if storage.object_count > 0 else 0.0
    if average_object < MIN_TIERED_OBJECT_BYTES:
        return TieringSaving(
            storage.bucket,
            total,
            standard_gib,
            0.0,
            0.0,
            assumed_cold_fraction,
            "keep: objects average under 128 KB, which Intelligent-Tiering does not tier",
            unpriced,
        )
    per_gib = standard.usd - infrequent.usd
    fee = storage.object_count * monitoring.usd
    upper = standard_gib * per_gib - fee
    estimate = standard_gib * assumed_cold_fraction * per_gib - fee
    if estimate < minimum_saving_usd:
        advice = f"keep: estimated saving ${estimate:,.2f}/month is below ${minimum_saving_usd:g}"
    else:
        advice = "add a lifecycle rule moving objects to INTELLIGENT_TIERING"
    return TieringSaving(
        storage.bucket,
        total,
        standard_gib,
        max(estimate, 0.0),
        max(upper, 0.0),
        assumed_cold_fraction,
        advice,
        unpriced,
    )
