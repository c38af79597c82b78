"""`mlplatform drift`: compare a current dataset with a baseline, locally, with the platform's engine.

Exit codes: 0 no drift, 1 drift detected, 2 bad input (unreadable file, no common
feature, bad option). Reading CSV/Parquet with pyarrow happens here only; the engine in
`lambdas.drift` sees plain columns. `--baseline` also accepts a saved profile JSON
(`--save-baseline-profile` writes one), so a baseline can be profiled once and reused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from lambdas.common.errors import InputError
from lambdas.drift.dataset_profile import DatasetProfile, profile_baseline, profile_current
from lambdas.drift.decision import DriftConfig, EffectRule, score
from lambdas.drift.multiple_testing import CORRECTIONS
from lambdas.drift.numeric_profile import Column
from lambdas.drift.report_html import render_html
from lambdas.drift.serialization import dumps, loads

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "drift",
        help="detect data drift between a baseline and a current dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--baseline", required=True, help="baseline CSV / Parquet file, or a saved profile .json"
    )
    parser.add_argument(
        "--current",
        help="current CSV / Parquet file (omit with --save-baseline-profile to only profile the baseline)",
    )
    parser.add_argument("--json", dest="json_out", help="write the result JSON here ('-' for stdout)")
    parser.add_argument("--html", dest="html_out", help="write the HTML report here")
    parser.add_argument("--save-baseline-profile", help="write the baseline profile JSON here")
    parser.add_argument(
        "--alpha", type=float, default=0.05, help="test level after correction (default 0.05)"
    )
    parser.add_argument(
        "--correction", choices=CORRECTIONS, default="holm", help="across features (default holm)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.1,
        help="numeric materiality: Wasserstein distance in baseline std units (default 0.1)",
    )
    parser.add_argument(
        "--categorical-threshold",
        type=float,
        default=0.05,
        help="categorical materiality: largest change of one category's share (default 0.05)",
    )
    parser.add_argument(
        "--categorical", nargs="*", default=[], metavar="COLUMN", help="treat these as categorical"
    )
    parser.set_defaults(func=run)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, ".json") if name.endswith(s)), path.suffix)


def read_columns(path: Path) -> dict[str, Column]:
    """Columns of a CSV or Parquet file as numpy arrays (nulls become NaN or None)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputError.single("path", "file not found", str(path))
    suffix = _suffix(path)
    try:
        if suffix in PARQUET_SUFFIXES:
            table = pq.read_table(path)
        elif suffix in CSV_SUFFIXES:
            delimiter = "\t" if suffix == ".tsv" else ","
            table = pa_csv.read_csv(path, parse_options=pa_csv.ParseOptions(delimiter=delimiter))
        else:
            raise InputError.single(
                "path", f"unknown file type {suffix!r}; use .csv, .tsv or .parquet", str(path)
            )
    except (pa.ArrowException, OSError) as exc:
        raise InputError.single("", f"cannot be read ({exc})", str(path)) from None
    columns: dict[str, Column] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            columns[name] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        else:
            columns[name] = np.asarray(column.to_pylist(), dtype=object)
    return columns


def _baseline(path: Path, categorical: list[str]) -> DatasetProfile:
    if _suffix(path) == ".json":
        if not path.is_file():
            raise InputError.single("path", "file not found", str(path))
        return loads(path.read_bytes(), source=str(path))
    kinds = dict.fromkeys(categorical, "categorical")
    return profile_baseline(read_columns(path), kinds=kinds)


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(target).write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    config = DriftConfig(
        alpha=args.alpha,
        correction=args.correction,
        numeric_rule=EffectRule("wasserstein", args.threshold),
        categorical_rule=EffectRule("linf", args.categorical_threshold),
    )
    baseline = _baseline(Path(args.baseline), args.categorical)
    if args.current is None:
        if not args.save_baseline_profile:
            raise InputError.single(
                "--current", "is required unless --save-baseline-profile only profiles the baseline"
            )
        _write(args.save_baseline_profile, dumps(baseline))
        print(f"baseline profile of {len(baseline.features)} features and {baseline.rows} rows written")
        return 0
    columns = read_columns(Path(args.current))
    if not set(columns) & set(baseline.features):
        raise InputError.single(
            "columns",
            f"no feature in common with the baseline (baseline: {sorted(baseline.features)[:10]}, "
            f"current: {sorted(columns)[:10]})",
            args.current,
        )
    current = profile_current(baseline, columns)
    result = score(baseline, current, config, current_columns=set(columns))
    if args.save_baseline_profile:
        _write(args.save_baseline_profile, dumps(baseline))
    if args.json_out:
        _write(args.json_out, json.dumps(result.to_dict(), indent=2, allow_nan=False))
    if args.html_out:
        _write(
            args.html_out, render_html(baseline, current, result, title=f"Drift: {Path(args.current).name}")
        )
    for name, feature in result.features.items():
        if not feature.scored:
            print(f"mlplatform drift: {name}: {feature.status}: {feature.reason}", file=sys.stderr)
    if args.json_out != "-":
        verdict = "drift detected" if result.drift_detected else "no drift"
        print(
            f"{verdict}: {len(result.drifted)} of {len(result.scored)} scored features drifted"
            + (f" ({', '.join(result.drifted)})" if result.drifted else "")
        )
    return 1 if result.drift_detected else 0
