import json
import shutil
from pathlib import Path

import pytest

from lambdas.common.errors import InputError
from lambdas.cost.assembly import UNKNOWN_REGION, read_assembly
from lambdas.cost.catalog import default_catalog
from lambdas.cost.cost_line import Basis
from lambdas.cost.estimate import estimate_assembly
from lambdas.cost.usage import load_usage_file, parse_usage

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "small_cdk_out"

# Hand computation, eu-west-1 factors: SageMaker 1.12, OpenSearch 1.1, DynamoDB 1.13, Kinesis 1.1.
HAND = {
    ("FraudConfig", "variant Blue (ml.m5.xlarge)"): 2 * 0.230 * 1.12 * 730,  # 376.096
    ("FraudConfig", "variant Gpu (ml.g5.xlarge)"): 1 * 1.408 * 1.12 * 730,  # 1,151.1808
    # 1e6 requests x 0.1 s x 2 GB = 200,000 GB-s at $0.00002
    ("ChurnConfig", "variant AllTraffic (serverless 2048 MB) compute"): 200_000 * 0.00002 * 1.12,  # 4.48
    ("VectorDomain", "data nodes (r6g.large.search)"): 2 * 0.167 * 1.1 * 730,  # 268.202
    ("VectorDomain", "master nodes (m6g.large.search)"): 3 * 0.128 * 1.1 * 730,  # 308.352
    ("VectorDomain", "EBS gp3"): 100 * 2 * 0.122 * 1.1,  # 26.84
    ("ScoreFunction", "requests"): 10_000_000 * 0.0000002,  # 2.00
    ("ScoreFunction", "compute (arm64, 1024 MB)"): 500_000 * 0.0000133334,  # 6.6667
    ("OnlineTable", "read request units"): 100_000_000 * 0.000000125 * 1.13,  # 14.125
    ("OnlineTable", "write request units"): 10_000_000 * 0.000000625 * 1.13,  # 7.0625
    ("OnlineTable", "storage"): 20 * 0.25 * 1.13,  # 5.65
    ("Events", "on-demand stream"): 0.04 * 1.1 * 730,  # 32.12
    ("Events", "data ingested"): 100 * 0.08 * 1.1,  # 8.80
    ("PlatformKey", "key"): 1.00,
    ("ErrorsAlarm", "alarm"): 0.10,
}
HAND_TOTAL = 2212.675  # the sum of the figures above, added by hand


@pytest.fixture(scope="module")
def small_estimate():
    return estimate_assembly(
        read_assembly(SMALL), default_catalog(), usage=load_usage_file(FIXTURES / "usage_small.yaml")
    )


def test_manifest_finds_nested_stage_stacks_and_their_regions():
    stacks = {s.name: s.region for s in read_assembly(SMALL)}
    assert stacks == {"Prod/Serving": "eu-west-1", "Shared": "us-east-1", "Agnostic": UNKNOWN_REGION}


def test_small_assembly_matches_hand_computed_lines(small_estimate):
    priced = {
        (line.logical_id, line.component): line.monthly_usd
        for line in small_estimate.lines
        if line.basis in (Basis.FIXED, Basis.USAGE)
    }
    assert priced.keys() == HAND.keys()
    for key, expected in HAND.items():
        assert priced[key] == pytest.approx(expected, abs=1e-6), key


def test_small_assembly_total_matches_hand_sum(small_estimate):
    assert sum(HAND.values()) == pytest.approx(HAND_TOTAL, abs=1e-9)
    assert small_estimate.total_usd == pytest.approx(HAND_TOTAL, abs=1e-6)
    totals = small_estimate.stack_totals()
    assert totals["Shared"] == pytest.approx(1.10)
    assert totals["Agnostic"] == 0.0


def test_unknown_resource_type_is_listed_unpriced_not_zero(small_estimate):
    unpriced = small_estimate.lines_with(Basis.UNPRICED)
    mystery = [line for line in unpriced if line.logical_id == "Mystery"]
    assert len(mystery) == 1 and mystery[0].monthly_usd is None
    assert "no pricer" in mystery[0].detail
    assert small_estimate.resource_totals()[("Shared", "Mystery")] == ("AWS::Foo::Bar", None)


def test_usage_priced_resource_without_usage_says_so(small_estimate):
    waiting = small_estimate.lines_with(Basis.NO_USAGE)
    assert [(line.logical_id, line.resource_type) for line in waiting] == [("AlarmTopic", "AWS::SNS::Topic")]
    assert "requests_per_month" in waiting[0].detail


def test_free_types_are_zero_and_labelled(small_estimate):
    free = {line.logical_id: line for line in small_estimate.lines_with(Basis.FREE)}
    assert {"PlatformKeyAlias", "IndexCreator", "CDKMetadata", "FraudEndpoint", "FunctionRole"} <= set(free)
    assert all(line.monthly_usd == 0.0 for line in free.values())


def test_environment_agnostic_stack_is_unpriced_without_region(small_estimate):
    line = next(line for line in small_estimate.lines if line.stack == "Agnostic")
    assert line.basis == Basis.UNPRICED and "pass --region" in line.detail


def test_environment_agnostic_stack_priced_in_given_region_and_marked_assumed():
    estimate = estimate_assembly(
        read_assembly(SMALL / "Agnostic.template.json"), default_catalog(), default_region="eu-central-1"
    )
    assert estimate.total_usd == pytest.approx(1.00)
    assert estimate.stacks[0].assumed and estimate.stacks[0].region == "eu-central-1"


def test_region_missing_from_catalog_gives_unpriced_lines_not_numbers(tmp_path):
    cdk_out = tmp_path / "cdk.out"
    shutil.copytree(SMALL / "assembly-Prod", cdk_out)
    manifest = json.loads((cdk_out / "manifest.json").read_text())
    manifest["artifacts"]["ProdServing1A2B3C4D"]["environment"] = "aws://123456789012/ap-southeast-7"
    (cdk_out / "manifest.json").write_text(json.dumps(manifest))
    estimate = estimate_assembly(read_assembly(cdk_out), default_catalog())
    assert estimate.total_usd == 0.0
    fraud = [line for line in estimate.lines if line.logical_id == "FraudConfig"]
    assert fraud and all(line.basis == Basis.UNPRICED for line in fraud)
    assert "ap-southeast-7" in fraud[0].detail


def test_parameter_default_resolves_instance_type(small_estimate):
    gpu = next(line for line in small_estimate.lines if line.component.startswith("variant Gpu"))
    assert "ml.g5.xlarge" in gpu.component


def test_usage_instance_count_overrides_initial_count(tmp_path):
    usage = parse_usage({"resources": {"FraudConfig": {"instance_count": 4}}})
    estimate = estimate_assembly(read_assembly(SMALL / "assembly-Prod"), default_catalog(), usage=usage)
    blue = next(line for line in estimate.lines if line.component == "variant Blue (ml.m5.xlarge)")
    assert blue.monthly_usd == pytest.approx(4 * 0.23 * 1.12 * 730)


def test_not_cloudformation_json_is_a_clear_error(tmp_path):
    bad = tmp_path / "package.template.json"
    bad.write_text(json.dumps({"name": "not-a-template", "dependencies": {}}))
    with pytest.raises(InputError, match="not a CloudFormation template: no 'Resources' mapping"):
        read_assembly(tmp_path)


def test_invalid_json_template_is_a_clear_error(tmp_path):
    (tmp_path / "Broken.template.json").write_text("{ this is not json")
    with pytest.raises(InputError, match="invalid JSON"):
        read_assembly(tmp_path)


def test_resource_without_type_is_a_clear_error(tmp_path):
    (tmp_path / "X.template.json").write_text(json.dumps({"Resources": {"A": {"Properties": {}}}}))
    with pytest.raises(InputError, match=r"Resources\.A.*no 'Type'"):
        read_assembly(tmp_path)


def test_directory_without_templates_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"no \*\.template\.json"):
        read_assembly(tmp_path)


def test_malformed_properties_cost_one_unpriced_line_not_a_crash(tmp_path):
    template = {
        "Resources": {
            "Odd": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {"ProductionVariants": {"Fn::If": []}},
            },
            "OddDomain": {"Type": "AWS::OpenSearchService::Domain", "Properties": {"ClusterConfig": [1, 2]}},
            "Key": {"Type": "AWS::KMS::Key"},
        }
    }
    (tmp_path / "Odd.template.json").write_text(json.dumps(template))
    estimate = estimate_assembly(read_assembly(tmp_path), default_catalog(), default_region="us-east-1")
    by_id = {line.logical_id: line for line in estimate.lines}
    assert by_id["Odd"].basis == Basis.UNPRICED
    assert by_id["OddDomain"].basis == Basis.UNPRICED
    assert by_id["Key"].monthly_usd == pytest.approx(1.0)


def test_usage_key_matching_no_resource_is_an_error():
    usage = parse_usage({"resources": {"Prod/Serving/DoesNotExist": {"requests_per_month": 5}}})
    with pytest.raises(InputError) as info:
        estimate_assembly(read_assembly(SMALL), default_catalog(), usage=usage)
    assert info.value.problems[0].field == "resources.Prod/Serving/DoesNotExist"
    assert "matches no resource" in info.value.problems[0].reason


def test_negative_usage_quantity_is_an_error_naming_the_field():
    with pytest.raises(InputError) as info:
        parse_usage({"resources": {"ScoreFunction": {"requests_per_month": -10}}}, source="usage.yaml")
    assert (
        str(info.value.problems[0])
        == "resources.ScoreFunction.requests_per_month: must be zero or more, got -10"
    )
    assert info.value.source == "usage.yaml"


def test_unknown_usage_field_is_an_error():
    with pytest.raises(InputError, match="requests_per_year: unknown field"):
        parse_usage({"resources": {"ScoreFunction": {"requests_per_year": 10}}})


def test_usage_field_that_does_not_apply_to_the_type_is_an_error():
    usage = parse_usage({"resources": {"OnlineTable": {"dpu_hours_per_month": 3}}})
    with pytest.raises(InputError, match="dpu_hours_per_month do not apply to AWS::DynamoDB::Table"):
        estimate_assembly(read_assembly(SMALL), default_catalog(), usage=usage)


def test_usage_default_for_a_type_that_is_not_usage_priced_is_an_error():
    usage = parse_usage({"defaults": {"AWS::IAM::Role": {"requests_per_month": 3}}})
    with pytest.raises(InputError, match="not a usage-priced resource type"):
        estimate_assembly(read_assembly(SMALL), default_catalog(), usage=usage)


def test_type_defaults_then_globs_then_exact_keys():
    usage = parse_usage(
        {
            "defaults": {"AWS::Lambda::Function": {"requests_per_month": 1_000_000, "avg_duration_ms": 100}},
            "resources": {"Prod/Serving/Score": {"avg_duration_ms": 50}, "Prod/*": {"avg_duration_ms": 400}},
        }
    )
    estimate = estimate_assembly(read_assembly(SMALL / "assembly-Prod"), default_catalog(), usage=usage)
    compute = next(line for line in estimate.lines if line.component.startswith("compute"))
    # 1e6 x 0.05 s x 1 GB: the exact key's duration wins over the glob's and the default's
    assert compute.monthly_usd == pytest.approx(50_000 * 0.0000133334)


def test_usage_yaml_that_is_not_yaml_is_an_error(tmp_path):
    bad = tmp_path / "usage.yaml"
    bad.write_text("resources: [unclosed")
    with pytest.raises(InputError, match="not valid YAML"):
        load_usage_file(bad)
