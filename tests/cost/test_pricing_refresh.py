import json
from datetime import date

import boto3
import pytest
from botocore.credentials import Credentials
from botocore.stub import Stubber

from lambdas.cost.catalog import default_catalog
from lambdas.cost.pricing_refresh import (
    credentials_available,
    parse_price_list_item,
    refresh_catalog,
    sagemaker_kind,
)


def _product(usage_type: str, usd: str, unit: str = "Hrs") -> str:
    return json.dumps(
        {
            "product": {"attributes": {"usagetype": usage_type, "regionCode": "eu-west-1"}, "sku": "SKU1"},
            "terms": {
                "OnDemand": {
                    "SKU1.T1": {
                        "priceDimensions": {"SKU1.T1.R1": {"unit": unit, "pricePerUnit": {"USD": usd}}}
                    }
                }
            },
        }
    )


@pytest.fixture
def pricing_client():
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield client, stubber


def _filters(instance_type: str) -> list[dict[str, str]]:
    return [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
        {"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance_type},
    ]


def test_refresh_replaces_hosting_and_training_prices_for_the_region(pricing_client):
    client, stubber = pricing_client
    stubber.add_response(
        "get_products",
        {
            "PriceList": [
                _product("EU-Hosting:ml.m5.large", "0.1290000000"),
                _product("EU-Train:ml.m5.large", "0.1300000000"),
                _product("EU-AsyncInf:ml.m5.large", "0.9990000000"),
            ],
            "NextToken": "page2",
        },
        {"ServiceCode": "AmazonSageMaker", "Filters": _filters("ml.m5.large")},
    )
    stubber.add_response(
        "get_products",
        {"PriceList": [_product("EU-Notebook:ml.m5.large", "0.5")]},
        {"ServiceCode": "AmazonSageMaker", "Filters": _filters("ml.m5.large"), "NextToken": "page2"},
    )
    refreshed = refresh_catalog(
        default_catalog(), client, ["eu-west-1"], ["ml.m5.large"], today=date(2026, 11, 1)
    )
    stubber.assert_no_pending_responses()
    hosting = refreshed.hosting_hourly("ml.m5.large", "eu-west-1")
    training = refreshed.training_hourly("ml.m5.large", "eu-west-1")
    assert hosting is not None and training is not None
    assert (hosting.usd, training.usd) == (0.129, 0.13)
    assert hosting.date == refreshed.date == "2026-11-01"
    assert "Price List API" in hosting.source and "EU-Hosting:ml.m5.large" in hosting.source
    # prices the API did not return keep their derived value
    untouched = refreshed.hosting_hourly("ml.m5.xlarge", "eu-west-1")
    assert untouched is not None and untouched.usd == pytest.approx(0.23 * 1.12)


def test_item_without_usd_price_is_skipped():
    item = json.dumps({"product": {"attributes": {}}, "terms": {"OnDemand": {}}})
    assert parse_price_list_item(item) is None


def test_usage_type_kinds():
    assert sagemaker_kind({"usagetype": "USE1-Hosting:ml.g5.xlarge"}) == "hosting"
    assert sagemaker_kind({"usagetype": "USW2-Train:ml.g5.xlarge"}) == "training"
    assert sagemaker_kind({"usagetype": "USW2-Train-Spot:ml.g5.xlarge"}) is None
    assert sagemaker_kind({}) is None


def test_credentials_available_reflects_session():
    class NoCredentials:
        def get_credentials(self):
            return None

    class WithCredentials:
        def get_credentials(self):
            return Credentials("a", "b")

    assert credentials_available(NoCredentials()) is False
    assert credentials_available(WithCredentials()) is True


def test_refresh_includes_opensearch_instance_prices(pricing_client):
    client, stubber = pricing_client
    stubber.add_response(
        "get_products",
        {"PriceList": [_product("EU-ESInstance:r6g.large", "0.1840000000")]},
        {
            "ServiceCode": "AmazonES",
            "Filters": [
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
                {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "r6g.large.search"},
            ],
        },
    )
    refreshed = refresh_catalog(
        default_catalog(),
        client,
        ["eu-west-1"],
        [],
        opensearch_instance_types=["r6g.large.search"],
        today=date(2026, 11, 2),
    )
    stubber.assert_no_pending_responses()
    price = refreshed.price("opensearch", "instance:r6g.large.search", "eu-west-1")
    assert price is not None and price.usd == 0.184 and price.date == "2026-11-02"
    assert "EU-ESInstance:r6g.large" in price.source


def test_catalog_lists_its_opensearch_instance_types():
    types = default_catalog().opensearch_instance_types()
    assert "r6g.large.search" in types and "ultrawarm1.medium.search" in types
