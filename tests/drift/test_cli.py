"""`mlplatform drift` end to end on CSV and Parquet files: exit codes, JSON shape, HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from mlplatform.cli import main

RNG = np.random.default_rng(77)
N = 2000


def _write_csv(path: Path, columns: dict[str, np.ndarray]) -> Path:
    names = list(columns)
    lines = [",".join(names)]
    for row in zip(*(columns[n] for n in names), strict=True):
        lines.append(",".join("" if isinstance(v, float) and np.isnan(v) else str(v) for v in row))
    path.write_text("\n".join(lines) + "\n")
    return path


def _data(shift: float, n: int = N) -> dict[str, np.ndarray]:
    return {
        "amount": RNG.normal(100 + shift * 15, 15, size=n),
        "age": RNG.integers(18, 80, size=n).astype(float),
        "country": RNG.choice(np.array(["de", "fr", "us"]), size=n, p=[0.3, 0.3, 0.4]),
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    base = _data(0.0)
    same = _data(0.0)
    moved = _data(0.5)
    pq.write_table(pa.table(moved), root / "moved.parquet")
    return {
        "base": _write_csv(root / "base.csv", base),
        "same": _write_csv(root / "same.csv", same),
        "moved_parquet": root / "moved.parquet",
        "root": root,
        "arrays": (base, moved),
    }


def test_no_drift_exits_0_and_json_has_documented_shape(files, capsys):
    out = files["root"] / "same.json"
    code = main(
        ["drift", "--baseline", str(files["base"]), "--current", str(files["same"]), "--json", str(out)]
    )
    assert code == 0
    body = json.loads(out.read_text())
    assert body["drift_detected"] is False and body["drift_share"] == 0.0
    amount = body["features"]["amount"]
    for key in (
        "drift",
        "method",
        "psi",
        "js_distance",
        "ks_statistic",
        "ks_p_value",
        "wasserstein",
        "status",
    ):
        assert key in amount
    assert body["features"]["country"]["kind"] == "categorical"
    assert "no drift" in capsys.readouterr().out


def test_drift_exits_1_on_parquet_and_statistics_match_scipy(files):
    out = files["root"] / "moved.json"
    html = files["root"] / "moved.html"
    argv = ["drift", "--baseline", str(files["base"]), "--current", str(files["moved_parquet"])]
    assert main([*argv, "--json", str(out), "--html", str(html)]) == 1
    body = json.loads(out.read_text())
    assert body["drift_detected"] is True and body["features"]["amount"]["drift"] is True
    base, moved = files["arrays"]
    # 2000 rows per side: within the exact-value limit, so the statistics are scipy's exact ones
    amount = body["features"]["amount"]
    exact = stats.ks_2samp(base["amount"], moved["amount"], method="exact")
    assert amount["ks_statistic"] == pytest.approx(exact.statistic, abs=1e-12)
    assert amount["ks_p_value"] == pytest.approx(exact.pvalue, rel=1e-9)
    w = stats.wasserstein_distance(base["amount"], moved["amount"]) / base["amount"].std()
    assert amount["wasserstein"] == pytest.approx(w, rel=1e-9)
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "amount" in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_saved_baseline_profile_gives_the_same_result(files):
    profile = files["root"] / "base.profile.json"
    first, second = files["root"] / "a.json", files["root"] / "b.json"
    argv = ["drift", "--current", str(files["moved_parquet"])]
    main(
        [
            *argv,
            "--baseline",
            str(files["base"]),
            "--json",
            str(first),
            "--save-baseline-profile",
            str(profile),
        ]
    )
    main([*argv, "--baseline", str(profile), "--json", str(second)])
    assert json.loads(first.read_text()) == json.loads(second.read_text())


def test_json_to_stdout_is_pure_json(files, capsys):
    main(["drift", "--baseline", str(files["base"]), "--current", str(files["same"]), "--json", "-"])
    assert json.loads(capsys.readouterr().out)["drift_detected"] is False


@pytest.mark.parametrize(
    ("current", "message"),
    [
        ("missing.csv", "file not found"),
        ("bad.txt", "unknown file type"),
        ("corrupt.parquet", "cannot be read"),
        ("other.csv", "no feature in common"),
    ],
)
def test_bad_input_exits_2_with_a_message_naming_the_file(files, capsys, current, message):
    root = files["root"]
    (root / "bad.txt").write_text("x\n1\n")
    (root / "corrupt.parquet").write_bytes(b"not parquet at all")
    (root / "other.csv").write_text("colour\nred\n")
    assert main(["drift", "--baseline", str(files["base"]), "--current", str(root / current)]) == 2
    err = capsys.readouterr().err
    assert message in err and current in err


def test_schema_mismatch_is_reported_per_feature(files, capsys):
    root = files["root"]
    partial = _write_csv(
        root / "partial.csv", {"amount": RNG.normal(100, 15, size=500), "extra": np.ones(500)}
    )
    out = root / "partial.json"
    code = main(["drift", "--baseline", str(files["base"]), "--current", str(partial), "--json", str(out)])
    body = json.loads(out.read_text())
    assert code == 0
    assert body["features"]["age"]["status"] == "missing_in_current"
    assert body["features"]["extra"]["status"] == "missing_in_baseline"
    assert "age: missing_in_current" in capsys.readouterr().err


def test_infinite_values_in_csv_are_reported(files):
    root = files["root"]
    values = RNG.normal(100, 15, size=300).astype(object)
    values[:2] = "inf"
    path = _write_csv(root / "inf.csv", {"amount": values})
    out = root / "inf.json"
    main(["drift", "--baseline", str(files["base"]), "--current", str(path), "--json", str(out)])
    assert json.loads(out.read_text())["features"]["amount"]["status"] == "infinite_values"


def test_baseline_only_run_writes_a_profile_the_engine_can_reuse(files):
    profile = files["root"] / "only.json"
    assert main(["drift", "--baseline", str(files["base"]), "--save-baseline-profile", str(profile)]) == 0
    assert json.loads(profile.read_text())["format"] == "mlplatform.drift.profile"
    assert main(["drift", "--baseline", str(profile), "--current", str(files["same"])]) == 0


def test_missing_current_without_profile_output_exits_2(files, capsys):
    assert main(["drift", "--baseline", str(files["base"])]) == 2
    assert "--current: is required" in capsys.readouterr().err
