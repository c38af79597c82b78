"""`mlplatform ab`: files in, JSON and HTML out, exit code 2 with named fields on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlplatform.cli import main
from tests.ab_analysis.experiments import two_arm_input

ISSUE_EXAMPLE = {
    "control": "A",
    "weights": {"A": 0.5, "B": 0.5},
    "alpha": 0.05,
    "sequential": False,
    "metrics": [
        {
            "name": "revenue",
            "type": "mean",
            "variants": {
                "A": {"n": 3407, "sum": 1396.87, "sum_sq": 52377.9767},
                "B": {"n": 3389, "sum": 1510.21, "sum_sq": 55001.3021},
            },
        }
    ],
}


def test_issue_example_writes_json_and_html_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.json"
    source.write_text(json.dumps(ISSUE_EXAMPLE))
    assert (
        main(
            [
                "ab",
                "--input",
                str(source),
                "--json",
                str(tmp_path / "out.json"),
                "--html",
                str(tmp_path / "r.html"),
            ]
        )
        == 0
    )
    out = json.loads((tmp_path / "out.json").read_text())
    comparison = out["metrics"][0]["comparisons"]["B"]
    assert comparison["lift_absolute"] == pytest.approx(1510.21 / 3389 - 1396.87 / 3407)
    assert out["srm"]["mismatch"] is False
    assert out["decision"]["action"] == "continue"
    html = (tmp_path / "r.html").read_text()
    assert "<svg" in html and "revenue" in html
    assert "decision: continue" in capsys.readouterr().out


def test_json_to_standard_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.json"
    source.write_text(json.dumps(two_arm_input(lift=0.05)))
    assert main(["ab", "--input", str(source), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["decision"]["variant"] == "B"


def test_bad_input_exits_two_and_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = two_arm_input()
    data["weights"] = {"A": 0.7, "B": 0.7}
    data["metrics"][0]["variants"]["B"]["n"] = 0
    source = tmp_path / "in.json"
    source.write_text(json.dumps(data))
    out = tmp_path / "out.json"
    assert main(["ab", "--input", str(source), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert "mlplatform ab: weights: must sum to 1" in err
    assert "metrics.revenue.variants.B.n" in err
    assert not out.exists()


def test_unreadable_and_malformed_files_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ab", "--input", str(tmp_path / "missing.json")]) == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"control": ')
    assert main(["ab", "--input", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err
    assert "is not valid JSON" in err
