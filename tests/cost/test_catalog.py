import json

import pytest

from lambdas.common.errors import InputError
from lambdas.cost.catalog import (
    DEFAULT_CATALOG_PATH,
    HOURS_PER_MONTH,
    Price,
    PriceCatalog,
    default_catalog,
    monthly_request_cost,
)

CONFIG_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1")


def test_seed_cost_table_recomputed_with_730_hour_months():
    # 100,000 requests/s x 3,600 s x 730 h = 262.8 billion requests; at $0.0001 each that is
    # $26,280,000 a month, a hundred times the seed's "$259K".
    assert round(monthly_request_cost(100_000, 0.0001), 2) == 26_280_000.00
    assert HOURS_PER_MONTH == 730


def test_seed_figure_of_25_9_million_is_the_30_day_month_variant():
    # The issue quotes $25.9M: that is 100,000/s over a 30-day (720 h) month.
    assert round(100_000 * 720 * 3600 * 0.0001, 2) == 25_920_000.00
    assert monthly_request_cost(100_000, 0.0001) - 25_920_000 == pytest.approx(360_000)


def test_every_price_carries_catalog_date_and_source():
    catalog = default_catalog()
    price = catalog.hosting_hourly("ml.m5.large", "us-east-1")
    assert price is not None
    assert price.date == catalog.date == "2025-06-01"
    assert price.source.startswith("https://aws.amazon.com/sagemaker/pricing/")
    assert DEFAULT_CATALOG_PATH.name.endswith(f"{catalog.date}.json")


@pytest.mark.parametrize(
    ("service", "key"),
    [
        ("sagemaker", "hosting:ml.m5.large"),
        ("sagemaker", "training:ml.g5.xlarge"),
        ("sagemaker", "serverless_inference_gb_second"),
        ("dynamodb", "write_request_unit"),
        ("s3", "storage:GLACIER_IR"),
        ("opensearch", "instance:ultrawarm1.medium.search"),
        ("lambda", "gb_second:arm64"),
        ("stepfunctions", "standard_transition"),
        ("apigateway", "rest_request"),
        ("kms", "key_month"),
        ("cloudwatch", "alarm_standard_metric_month"),
        ("kinesis", "on_demand_stream_hour"),
        ("glue", "dpu_hour"),
    ],
)
def test_each_service_is_priced_in_every_config_region(service, key):
    catalog = default_catalog()
    for region in CONFIG_REGIONS:
        price = catalog.price(service, key, region)
        assert price is not None, (service, key, region)
        assert price.usd > 0


def test_non_base_region_price_is_factor_times_base_and_says_so():
    catalog = default_catalog()
    base = catalog.hosting_hourly("ml.m5.xlarge", "us-east-1")
    frankfurt = catalog.hosting_hourly("ml.m5.xlarge", "eu-central-1")
    assert base is not None and frankfurt is not None
    assert frankfurt.usd == pytest.approx(0.23 * 1.2)
    assert "regional factor" in frankfurt.source and "regional factor" not in base.source


def test_region_missing_from_catalog_has_no_price():
    assert default_catalog().hosting_hourly("ml.m5.large", "ap-southeast-7") is None
    assert default_catalog().price("lambda", "request", "ap-southeast-7") is None


def test_unknown_key_has_no_price():
    assert default_catalog().hosting_hourly("ml.z9.huge", "us-east-1") is None


def test_lambda_arm64_is_cheaper_than_x86_per_gb_second():
    catalog = default_catalog()
    arm = catalog.price("lambda", "gb_second:arm64", "us-east-1")
    x86 = catalog.price("lambda", "gb_second:x86_64", "us-east-1")
    assert arm is not None and x86 is not None
    assert arm.usd == pytest.approx(x86.usd * 0.8, rel=1e-4)


def test_spot_training_price_applies_documented_discount():
    catalog = default_catalog()
    on_demand = catalog.training_hourly("ml.g5.xlarge", "us-west-2")
    spot = catalog.spot_training_hourly("ml.g5.xlarge", "us-west-2")
    assert on_demand is not None and spot is not None
    assert catalog.spot_training_discount == 0.70
    assert spot.usd == pytest.approx(on_demand.usd * 0.30)
    assert "Assumption" in spot.source


def test_instance_specs_cover_gpu_and_inferentia_types():
    catalog = default_catalog()
    g5 = catalog.instance_spec("ml.g5.12xlarge")
    inf2 = catalog.instance_spec("ml.inf2.xlarge")
    assert g5 is not None and (g5.vcpu, g5.memory_gib, g5.gpus) == (48, 192, 4)
    assert inf2 is not None and (inf2.gpus, inf2.neuron_devices) == (0, 1)
    assert g5.family == "g5"


def test_hosting_family_ladder_is_ordered_by_price_within_family():
    ladder = default_catalog().hosting_family("ml.c6i.2xlarge", "us-east-1")
    names = [spec.name for spec, _ in ladder]
    assert names[0] == "ml.c6i.large" and names[-1] == "ml.c6i.32xlarge"
    prices = [price.usd for _, price in ladder]
    assert prices == sorted(prices)
    assert all(spec.family == "c6i" for spec, _ in ladder)


def test_override_wins_over_regional_factor_and_round_trips():
    catalog = default_catalog()
    override = Price(
        "sagemaker", "hosting:ml.m5.large", "eu-west-1", 0.129, "instance-hour", "2026-01-02", "API"
    )
    refreshed = catalog.with_overrides([override], catalog_date="2026-01-02")
    price = refreshed.hosting_hourly("ml.m5.large", "eu-west-1")
    assert price == override
    assert refreshed.date == "2026-01-02"
    again = PriceCatalog(json.loads(json.dumps(refreshed.to_document())))
    assert again.hosting_hourly("ml.m5.large", "eu-west-1") == override
    # other regions still derive from the base price
    base = again.hosting_hourly("ml.m5.large", "us-east-1")
    assert base is not None and base.usd == pytest.approx(0.115)


def test_malformed_catalog_is_an_input_error():
    with pytest.raises(InputError, match="malformed catalog"):
        PriceCatalog({"catalog_date": "2025-01-01"})


def test_unreadable_catalog_file_is_an_input_error(tmp_path):
    bad = tmp_path / "catalog.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="cannot read price catalog"):
        PriceCatalog.load(bad)
