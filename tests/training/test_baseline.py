"""The baseline step: a deployed run's training set becomes the drift monitor's baseline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lambdas.common.errors import InputError
from lambdas.drift.categorical_profile import CategoricalProfile
from lambdas.drift.numeric_profile import NumericProfile
from lambdas.drift.serialization import loads
from lambdas.training import baseline_handler
from lambdas.training.baseline import baseline_from_parts, data_object_keys, versioned_baseline_key
from lambdas.training.summary import render, summary_from_state

from .conftest import FakeContext

BUCKET = "artifacts"
RUN = "20260105T120000"
DATA_URI = f"s3://{BUCKET}/retraining/fraud/{RUN}/training-set/"


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _training_file(amounts: list[float | None], countries: list[str | None]) -> bytes:
    rows = len(amounts)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return _parquet(
        pa.table(
            {
                "card_id": [f"c{i}" for i in range(rows)],
                "event_time": pa.array([start + dt.timedelta(hours=i) for i in range(rows)]),
                "amount_1h": pa.array(amounts, type=pa.float64()),
                "country": countries,
                "label": [i % 2 for i in range(rows)],
            }
        )
    )


def _event(**overrides: Any) -> dict[str, Any]:
    return {
        "model": "fraud",
        "run_id": RUN,
        "training_data_uri": DATA_URI,
        "artifact_bucket": BUCKET,
        "baseline_key": "baselines/fraud/profile.json",
        "excluded_columns": ["card_id", "event_time", "label"],
        **overrides,
    }


@pytest.fixture
def bucket(aws: None) -> Any:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return s3


def _put(s3: Any, name: str, body: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"retraining/fraud/{RUN}/training-set/{name}", Body=body)


def test_handler_profiles_every_file_minus_excluded_columns_and_writes_both_keys(
    bucket: Any, context: FakeContext
) -> None:
    rng = np.random.default_rng(7)
    first = rng.normal(50.0, 10.0, 300)
    second = rng.normal(50.0, 10.0, 200)
    _put(bucket, "q1_00000", _training_file([*first[:-1], None], ["DE", "FR", None] * 100))
    _put(bucket, "q1_00001", _training_file(list(second), ["DE"] * 200))
    _put(bucket, "_SUCCESS", b"")  # bookkeeping, not data

    result = baseline_handler.handler(_event(), context)

    assert result["rows"] == 500 and result["files"] == 2
    assert result["features"] == ["amount_1h", "country"]
    live = bucket.get_object(Bucket=BUCKET, Key="baselines/fraud/profile.json")["Body"].read()
    versioned_key = f"retraining/fraud/{RUN}/baseline-profile.json"
    versioned = bucket.get_object(Bucket=BUCKET, Key=versioned_key)["Body"].read()
    assert live == versioned
    assert result["versioned_uri"] == f"s3://{BUCKET}/{versioned_key}"
    profile = loads(live.decode())
    assert profile.rows == 500 and set(profile.features) == {"amount_1h", "country"}
    amount = profile.features["amount_1h"]
    assert isinstance(amount, NumericProfile)
    assert int(amount.counts.sum()) == 499 and amount.nan_count == 1
    expected = np.concatenate([first[:-1], second])
    assert amount.mean == pytest.approx(expected.mean(), rel=1e-12)
    assert amount.minimum == expected.min() and amount.maximum == expected.max()
    country = profile.features["country"]
    assert isinstance(country, CategoricalProfile)
    counts = dict(zip(country.categories, country.counts.tolist(), strict=False))
    assert counts == {"DE": 300, "FR": 100} and country.missing_count == 100


def test_empty_training_set_fails_naming_the_uri(bucket: Any, context: FakeContext) -> None:
    with pytest.raises(InputError, match="training_data_uri"):
        baseline_handler.handler(_event(), context)
    assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET, Prefix="baselines/")


def test_files_with_different_columns_are_refused(bucket: Any, context: FakeContext) -> None:
    _put(bucket, "a_00000", _training_file([1.0, 2.0], ["DE", "FR"]))
    _put(bucket, "b_00000", _parquet(pa.table({"amount_1h": [1.0], "other": [2.0]})))
    with pytest.raises(InputError, match="files disagree on columns"):
        baseline_handler.handler(_event(), context)


def test_excluding_every_column_is_refused() -> None:
    parts = [("s3://b/k", {"label": np.array([1.0, 0.0])})]
    with pytest.raises(InputError, match="excluded_columns"):
        baseline_from_parts(parts, excluded={"label"})


def test_bad_event_is_rejected_before_any_io(context: FakeContext) -> None:
    with pytest.raises(Exception, match="training_data_uri"):
        baseline_handler.handler(_event(training_data_uri="not-a-uri"), context)


def test_data_object_keys_skip_markers_and_bookkeeping() -> None:
    listing = [
        {"Key": "p/q_00001", "Size": 10},
        {"Key": "p/", "Size": 0},
        {"Key": "p/_SUCCESS", "Size": 0},
        {"Key": "p/.part.crc", "Size": 4},
        {"Key": "p/q_00000", "Size": 10},
    ]
    assert data_object_keys(listing) == ["p/q_00000", "p/q_00001"]


def test_versioned_key_follows_the_run_layout() -> None:
    assert versioned_baseline_key("Fraud v2", RUN) == f"retraining/Fraud-v2/{RUN}/baseline-profile.json"


def test_summary_names_the_baseline_or_warns_that_it_is_stale() -> None:
    ok = summary_from_state(
        {"baseline": {"baseline_uri": "s3://a/baselines/fraud/profile.json"}},
        model="fraud",
        outcome="deployed",
        execution="e",
    )
    assert "Drift baseline: s3://a/baselines/fraud/profile.json" in render(ok)[1]
    assert ok.warning is None
    stale = summary_from_state(
        {"baselineError": {"Error": "InputError", "Cause": "training_data_uri: holds no data files"}},
        model="fraud",
        outcome="deployed-with-warning",
        execution="e",
    )
    subject, message = render(stale)
    assert subject == "Retraining deployed-with-warning: fraud"
    assert "Warning: the model is deployed but its drift baseline was not updated (InputError: " in message
    assert "Error:" not in message.replace("(InputError:", "")
