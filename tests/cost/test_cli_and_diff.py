import json
import shutil
from pathlib import Path

import pytest

from lambdas.cost.assembly import read_assembly
from lambdas.cost.catalog import default_catalog
from lambdas.cost.estimate import estimate_assembly
from lambdas.cost.estimate_diff import diff_estimates, render_diff_markdown
from mlplatform.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "small_cdk_out"
USAGE = FIXTURES / "usage_small.yaml"


@pytest.fixture(autouse=True)
def _no_default_region(monkeypatch):
    monkeypatch.delenv("CDK_DEFAULT_REGION", raising=False)


@pytest.fixture
def changed_cdk_out(tmp_path):
    """The small assembly with the Blue variant scaled 2 -> 3, the domain removed and a key added."""
    new = tmp_path / "new"
    shutil.copytree(SMALL, new)
    path = new / "assembly-Prod" / "ProdServing1A2B3C4D.template.json"
    template = json.loads(path.read_text())
    template["Resources"]["FraudConfig"]["Properties"]["ProductionVariants"][0]["InitialInstanceCount"] = 3
    del template["Resources"]["VectorDomain"]
    template["Resources"]["DataKey"] = {"Type": "AWS::KMS::Key", "Properties": {}}
    path.write_text(json.dumps(template))
    return new


def test_total_format_prints_one_line_with_total_and_catalog_date(capsys):
    assert main(["cost", "estimate", str(SMALL), "--usage", str(USAGE), "--format", "total"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("Estimated monthly cost: $2,212.68 (3 stacks")
    assert "catalog 2025-06-01" in out[0] and "2 unpriced" in out[0] and "1 awaiting usage" in out[0]


def test_json_format_carries_lines_totals_and_provenance(capsys):
    assert main(["cost", "estimate", str(SMALL), "--usage", str(USAGE), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total_monthly_usd"] == 2212.68
    assert report["catalog_date"] == "2025-06-01" and report["hours_per_month"] == 730
    assert {s["name"]: s["monthly_usd"] for s in report["stacks"]}["Shared"] == 1.10
    mystery = next(line for line in report["lines"] if line["logical_id"] == "Mystery")
    assert mystery["basis"] == "unpriced" and mystery["monthly_usd"] is None


def test_markdown_format_lists_stacks_and_unpriced_resources(capsys):
    assert main(["cost", "estimate", str(SMALL), "--usage", str(USAGE), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### Estimated monthly cost: $2,212.68")
    assert "| Prod/Serving | eu-west-1 | $2,211.58 |" in out
    assert "| Shared | `Mystery` | AWS::Foo::Bar | resource | unpriced |" in out


def test_table_format_shows_unpriced_and_region(capsys):
    assert main(["cost", "estimate", str(SMALL), "--region", "us-west-2"]) == 0
    out = capsys.readouterr().out
    assert "Agnostic (us-west-2, assumed): $1.00" in out
    assert "needs usage" in out and "unpriced" in out


def test_bad_usage_file_exits_2_with_field_named(tmp_path, capsys):
    usage = tmp_path / "usage.yaml"
    usage.write_text("resources:\n  ScoreFunction:\n    requests_per_month: -1\n")
    assert main(["cost", "estimate", str(SMALL), "--usage", str(usage)]) == 2
    err = capsys.readouterr().err
    assert "resources.ScoreFunction.requests_per_month: must be zero or more" in err


def test_not_a_cloud_assembly_exits_2(tmp_path, capsys):
    (tmp_path / "a.template.json").write_text("[1, 2, 3]")
    assert main(["cost", "estimate", str(tmp_path)]) == 2
    assert "not a CloudFormation template" in capsys.readouterr().err


def test_diff_reports_monthly_delta_per_resource(changed_cdk_out):
    catalog = default_catalog()
    old = estimate_assembly(read_assembly(SMALL), catalog)
    new = estimate_assembly(read_assembly(changed_cdk_out), catalog)
    diff = diff_estimates(old, new)
    by_id = {d.logical_id: d for d in diff.deltas}
    assert by_id["FraudConfig"].change == "changed"
    assert by_id["FraudConfig"].delta_usd == pytest.approx(1 * 0.23 * 1.12 * 730)
    domain_monthly = (2 * 0.167 + 3 * 0.128) * 1.1 * 730 + 100 * 2 * 0.122 * 1.1
    assert by_id["VectorDomain"].change == "removed"
    assert by_id["VectorDomain"].delta_usd == pytest.approx(-domain_monthly)
    assert by_id["DataKey"].change == "added" and by_id["DataKey"].delta_usd == pytest.approx(1.00)
    assert "PlatformKey" not in by_id  # unchanged resources are left out
    assert diff.total_delta == pytest.approx(1 * 0.23 * 1.12 * 730 - domain_monthly + 1.0)


def test_diff_markdown_leads_with_the_total_change(changed_cdk_out, capsys):
    assert main(["cost", "diff", str(SMALL), str(changed_cdk_out)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### Monthly cost change: -$414.35 ($2,163.89 → $1,749.54)")
    assert "| Prod/Serving | `VectorDomain` | AWS::OpenSearchService::Domain | removed |" in out


def test_diff_of_identical_assemblies_says_nothing_changed():
    estimate = estimate_assembly(read_assembly(SMALL), default_catalog())
    text = render_diff_markdown(diff_estimates(estimate, estimate))
    assert "No resource changes its monthly cost." in text


def test_total_line_for_the_review_summary():
    from mlplatform.commands.cost import total_line

    line = total_line(SMALL, usage=USAGE)
    assert line.startswith("Estimated monthly cost: $2,212.68 (3 stacks")


def test_total_line_reports_a_problem_instead_of_raising(tmp_path):
    from mlplatform.commands.cost import total_line

    assert total_line(tmp_path / "missing") == (
        f"Estimated monthly cost: not available ({tmp_path / 'missing'}: no such cloud assembly directory or template file)"
    )


def test_usage_from_config_command_prints_loadable_yaml(capsys, repo_root):
    import yaml

    from lambdas.cost.usage import parse_usage

    assert main(["cost", "usage-from-config", str(repo_root / "config" / "default.yaml")]) == 0
    usage = parse_usage(yaml.safe_load(capsys.readouterr().out))
    assert {job.service for job in usage.jobs} == {"sagemaker_training"}


def test_estimate_with_config_adds_scheduled_jobs(capsys, repo_root):
    config = repo_root / "config" / "default.yaml"
    assert (
        main(
            [
                "cost",
                "estimate",
                str(SMALL),
                "--usage",
                str(USAGE),
                "--config",
                str(config),
                "--format",
                "json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    jobs = [line for line in report["lines"] if line["stack"] == "(scheduled jobs)"]
    assert {line["resource_type"] for line in jobs} == {"SageMaker training job"}
    # the config's first region also prices the environment-agnostic stack (its KMS key, $1), marked assumed
    agnostic = next(s for s in report["stacks"] if s["name"] == "Agnostic")
    assert agnostic["region_assumed"] and agnostic["monthly_usd"] == 1.0
    jobs_total = sum(line["monthly_usd"] for line in jobs)
    assert report["total_monthly_usd"] == pytest.approx(2212.68 + 1.0 + jobs_total, abs=0.01)


def test_refresh_catalog_without_credentials_keeps_the_bundled_catalog(tmp_path, monkeypatch, capsys):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    output = tmp_path / "catalog.json"
    assert main(["cost", "refresh-catalog", "--output", str(output)]) == 1
    assert "no AWS credentials" in capsys.readouterr().err
    assert not output.exists()


def test_diff_applies_usage_to_both_sides_even_when_old_lacks_a_resource(changed_cdk_out, tmp_path, capsys):
    usage = tmp_path / "usage.yaml"
    usage.write_text(
        "resources:\n  DataKey: {requests_per_month: 1000000}\n  ScoreFunction: {requests_per_month: 10, avg_duration_ms: 1}\n"
    )
    assert (
        main(["cost", "diff", str(SMALL), str(changed_cdk_out), "--usage", str(usage), "--format", "json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    by_id = {r["logical_id"]: r for r in report["resources"]}
    # DataKey only exists in the new assembly: $1 key + 1e6 requests x $0.000003
    assert by_id["DataKey"]["delta_monthly_usd"] == pytest.approx(4.00)
    # ScoreFunction's usage applies on both sides, so it does not change
    assert "ScoreFunction" not in by_id


def test_estimate_still_rejects_a_usage_key_matching_nothing(tmp_path):
    usage = tmp_path / "usage.yaml"
    usage.write_text("resources:\n  DataKey: {requests_per_month: 1}\n")
    assert main(["cost", "estimate", str(SMALL), "--usage", str(usage)]) == 2
