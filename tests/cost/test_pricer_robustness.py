"""Whatever shape a template's properties take, pricing yields lines and never raises."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdas.cost.catalog import default_catalog
from lambdas.cost.cost_line import Basis
from lambdas.cost.estimate import price_resource
from lambdas.cost.pricer_registry import PRICERS
from lambdas.cost.pricing_context import PricingContext
from lambdas.cost.usage import ResourceUsage

CATALOG = default_catalog()
KEYS = st.sampled_from(
    [
        "ProductionVariants",
        "InstanceType",
        "InitialInstanceCount",
        "ServerlessConfig",
        "MemorySizeInMB",
        "ClusterConfig",
        "InstanceCount",
        "DedicatedMasterEnabled",
        "EBSOptions",
        "VolumeSize",
        "EBSEnabled",
        "BillingMode",
        "ProvisionedThroughput",
        "ReadCapacityUnits",
        "GlobalSecondaryIndexes",
        "Replicas",
        "StreamModeDetails",
        "StreamMode",
        "ShardCount",
        "Metrics",
        "MetricStat",
        "Period",
        "SubnetIds",
        "VpcEndpointType",
        "MemorySize",
        "Architectures",
        "StateMachineType",
        "ProtocolType",
        "Ref",
        "Fn::If",
        "OnlineStoreConfig",
        "PointInTimeRecoverySpecification",
        "VariantName",
        "WarmEnabled",
    ]
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "ml.m5.large",
            "r6g.large.search",
            "ON_DEMAND",
            "PAY_PER_REQUEST",
            "EXPRESS",
            "Interface",
            "arm64",
            "gp3",
            "x",
            "",
        ]
    ),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
USAGE = st.builds(
    ResourceUsage,
    requests_per_month=st.none() | st.floats(0, 1e12),
    avg_duration_ms=st.none() | st.floats(0, 1e6),
    storage_gb=st.none() | st.floats(0, 1e6),
    instance_count=st.none() | st.floats(0, 100),
    data_gb_per_month=st.none() | st.floats(0, 1e6),
)


@pytest.mark.parametrize(
    ("resource_type", "properties"),
    [
        (
            "AWS::SageMaker::EndpointConfig",
            {"ProductionVariants": [{"InstanceType": "ml.m5.large", "InitialInstanceCount": -5}]},
        ),
        ("AWS::Kinesis::Stream", {"ShardCount": -2}),
        (
            "AWS::OpenSearchService::Domain",
            {
                "ClusterConfig": {"InstanceCount": 1e308},
                "EBSOptions": {"EBSEnabled": True, "VolumeSize": 1e308},
            },
        ),
        (
            "AWS::DynamoDB::Table",
            {"ProvisionedThroughput": {"ReadCapacityUnits": -1, "WriteCapacityUnits": 5}},
        ),
    ],
)
def test_negative_or_overflowing_template_quantities_are_unpriced(resource_type, properties):
    ctx = PricingContext("S", "us-east-1", "R", resource_type, properties, {}, CATALOG, None)
    lines = price_resource(ctx)
    assert any(line.basis == Basis.UNPRICED for line in lines)
    assert all(line.monthly_usd is None or 0 <= line.monthly_usd < float("inf") for line in lines)


VARIANT = st.fixed_dictionaries(
    {
        "InstanceType": st.sampled_from(["ml.m5.large", "ml.g5.xlarge", "ml.nope"]),
        "InitialInstanceCount": LEAVES,
    }
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    resource_type=st.sampled_from(sorted(PRICERS)),
    properties=st.dictionaries(KEYS, VALUES, max_size=6),
    usage=st.none() | USAGE,
    region=st.sampled_from(["us-east-1", "eu-central-1", "unknown-region", "ap-south-2"]),
)
def test_pricers_never_raise_and_never_price_negative(resource_type, properties, usage, region):
    _check(resource_type, properties, usage, region)


@given(variants=st.lists(VARIANT, min_size=1, max_size=3), usage=st.none() | USAGE)
def test_endpoint_config_variants_never_price_negative(variants, usage):
    _check("AWS::SageMaker::EndpointConfig", {"ProductionVariants": variants}, usage, "us-east-1")


def _check(resource_type, properties, usage, region):
    ctx = PricingContext("S", region, "R", resource_type, properties, {}, CATALOG, usage)
    lines = price_resource(ctx)
    assert lines
    for line in lines:
        if line.basis in (Basis.UNPRICED, Basis.NO_USAGE):
            assert line.monthly_usd is None
        else:
            assert line.monthly_usd is not None and 0 <= line.monthly_usd < float("inf")


@given(properties=st.one_of(st.lists(LEAVES), st.text(), st.integers()))
def test_properties_that_are_not_a_mapping_are_unpriced(properties):
    ctx = PricingContext("S", "us-east-1", "R", "AWS::KMS::Key", properties, {}, CATALOG, None)  # type: ignore[arg-type]
    assert [line.basis for line in price_resource(ctx)] == [Basis.UNPRICED]
