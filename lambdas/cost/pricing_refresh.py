"""Refresh SageMaker instance prices from the AWS Price List API.

Only used where AWS credentials exist (a maintainer's machine or a scheduled job); CI and
tests use the committed catalog. The Price List API is served from us-east-1 whatever the
region being priced, and every product comes back as a JSON string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from lambdas.cost.catalog import Price, PriceCatalog

PRICE_LIST_SOURCE = "AWS Price List API (pricing:GetProducts, OnDemand terms)"
# The usage type tells hosting from training and from async/batch variants of the same instance.
_USAGE_KINDS = {"Hosting": "hosting", "Train": "training"}


def credentials_available(session: Any) -> bool:
    """True when the boto3 session can sign requests (no network call)."""
    return session.get_credentials() is not None


def parse_price_list_item(item: str | dict[str, Any]) -> tuple[dict[str, str], float, str] | None:
    """(product attributes, USD per unit, unit) of one PriceList entry; None if it has no USD on-demand price."""
    product = json.loads(item) if isinstance(item, str) else item
    attributes = product.get("product", {}).get("attributes", {})
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is None:
                continue
            return attributes, float(usd), str(dimension.get("unit", ""))
    return None


def sagemaker_kind(attributes: dict[str, str]) -> str | None:
    """'hosting' or 'training' from a usage type like 'USE1-Hosting:ml.m5.large'; None otherwise."""
    usage_type = attributes.get("usagetype", "")
    head = usage_type.split(":", 1)[0]
    kind = head.split("-", 1)[1] if "-" in head else head
    return _USAGE_KINDS.get(kind)


def fetch_sagemaker_prices(
    client: Any, region: str, instance_types: Iterable[str], *, today: date | None = None
) -> list[Price]:
    """Hosting and training hourly prices of the given instance types in one region."""
    stamp = (today or date.today()).isoformat()
    prices: list[Price] = []
    for instance_type in instance_types:
        paginator = client.get_paginator("get_products")
        pages = paginator.paginate(
            ServiceCode="AmazonSageMaker",
            Filters=[
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                {"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance_type},
            ],
        )
        for page in pages:
            for item in page.get("PriceList", []):
                parsed = parse_price_list_item(item)
                if parsed is None:
                    continue
                attributes, usd, unit = parsed
                kind = sagemaker_kind(attributes)
                if kind is None or usd <= 0:
                    continue
                prices.append(
                    Price(
                        "sagemaker",
                        f"{kind}:{instance_type}",
                        region,
                        usd,
                        "instance-hour" if unit.lower().startswith("hr") else unit,
                        stamp,
                        f"{PRICE_LIST_SOURCE}, usagetype {attributes.get('usagetype', '?')}",
                    )
                )
    return prices


def fetch_opensearch_prices(
    client: Any, region: str, instance_types: Iterable[str], *, today: date | None = None
) -> list[Price]:
    """On-demand hourly prices of OpenSearch instance types (e.g. r6g.large.search) in one region."""
    stamp = (today or date.today()).isoformat()
    prices: list[Price] = []
    for instance_type in instance_types:
        pages = client.get_paginator("get_products").paginate(
            ServiceCode="AmazonES",
            Filters=[
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                {"Type": "TERM_MATCH", "Field": "instanceType", "Value": instance_type},
            ],
        )
        for page in pages:
            for item in page.get("PriceList", []):
                parsed = parse_price_list_item(item)
                if parsed is None:
                    continue
                attributes, usd, _unit = parsed
                # only the instance-hour product; other usage types can share the filter
                if "ESInstance:" not in attributes.get("usagetype", "") or usd <= 0:
                    continue
                prices.append(
                    Price(
                        "opensearch",
                        f"instance:{instance_type}",
                        region,
                        usd,
                        "instance-hour",
                        stamp,
                        f"{PRICE_LIST_SOURCE}, usagetype {attributes['usagetype']}",
                    )
                )
                break
    return prices


def refresh_catalog(
    catalog: PriceCatalog,
    client: Any,
    regions: Iterable[str],
    instance_types: Iterable[str],
    *,
    opensearch_instance_types: Iterable[str] = (),
    today: date | None = None,
) -> PriceCatalog:
    """A new catalog dated today whose SageMaker (and OpenSearch) instance prices come from the API."""
    stamp = today or date.today()
    types = list(instance_types)
    search_types = list(opensearch_instance_types)
    fetched: list[Price] = []
    for region in regions:
        fetched.extend(fetch_sagemaker_prices(client, region, types, today=stamp))
        fetched.extend(fetch_opensearch_prices(client, region, search_types, today=stamp))
    return catalog.with_overrides(fetched, catalog_date=stamp.isoformat())
