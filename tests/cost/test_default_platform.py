"""The estimate of the default platform (config/default.yaml, synthesized once per session)."""

from __future__ import annotations

import pytest

from lambdas.cost.assembly import read_assembly
from lambdas.cost.catalog import default_catalog
from lambdas.cost.cost_line import Basis
from lambdas.cost.estimate import Estimate, estimate_assembly

pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def default_estimate(synthesized_platform) -> Estimate:
    return estimate_assembly(read_assembly(synthesized_platform), default_catalog())


def _lines(estimate: Estimate, stack: str, resource_type: str):
    return [line for line in estimate.lines if line.stack == stack and line.resource_type == resource_type]


def test_every_stack_has_the_config_region(default_estimate, default_config):
    regions = {env.name: env.region for env in default_config.environments}
    for stack in default_estimate.stacks:
        assert stack.region == regions[stack.name.split("/")[0]], stack.name
        assert not stack.assumed


def test_foundation_fixed_cost_matches_hand_computation(default_estimate):
    # dev in us-east-1: one NAT gateway ($0.045/h) with its Elastic IP ($0.005/h), five interface
    # endpoints (KMS, Logs, SageMaker API, SageMaker runtime, STS) in 2 AZs ($0.01/AZ-hour) and two
    # KMS keys ($1/month): 32.85 + 3.65 + 5 x 14.60 + 2.00 = $111.50.
    foundation = [line for line in default_estimate.lines if line.stack == "dev/Foundation"]
    fixed = sum(line.monthly_usd or 0.0 for line in foundation if line.basis == Basis.FIXED)
    assert fixed == pytest.approx(111.50)
    endpoints = _lines(default_estimate, "dev/Foundation", "AWS::EC2::VPCEndpoint")
    assert sorted(line.monthly_usd for line in endpoints if line.basis == Basis.FIXED) == pytest.approx(
        [14.60] * 5
    )


def test_serving_variants_match_hand_computation(default_estimate):
    configs = [
        line for line in default_estimate.lines if line.resource_type == "AWS::SageMaker::EndpointConfig"
    ]
    if not configs:
        pytest.skip("the default platform has no serving stack composed yet")
    # fraud-detector: champion 2 x ml.m5.large, challenger 1 x ml.m5.large at $0.115/h in us-east-1
    by_variant = {line.component.split(" ")[1]: line.monthly_usd for line in configs}
    assert by_variant["champion"] == pytest.approx(2 * 0.115 * 730)  # $167.90
    assert by_variant["challenger"] == pytest.approx(1 * 0.115 * 730)  # $83.95


def test_vector_domain_matches_hand_computation(default_estimate):
    domain = [
        line for line in default_estimate.lines if line.resource_type == "AWS::OpenSearchService::Domain"
    ]
    if not domain:
        pytest.skip("the default platform has no vector stack composed yet")
    # 2 x r6g.large.search ($0.167/h) + 3 x m6g.large.search masters ($0.128/h) + 2 x 100 GB gp3 ($0.122/GB-month)
    total = sum(line.monthly_usd or 0.0 for line in domain)
    assert total == pytest.approx(2 * 0.167 * 730 + 3 * 0.128 * 730 + 200 * 0.122)  # $548.54
