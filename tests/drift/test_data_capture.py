"""Reading SageMaker data capture JSON Lines."""

from __future__ import annotations

import base64
import json

from lambdas.drift.data_capture import read_capture_lines


def _line(
    data: str,
    encoding: str = "JSON",
    output: str | None = '{"predictions": [0.8]}',
    csv: bool = False,
    **meta,
) -> str:
    content_type = "text/csv" if encoding == "CSV" or csv else "application/json"
    capture = {
        "endpointInput": {
            "observedContentType": content_type,
            "mode": "INPUT",
            "data": data,
            "encoding": encoding,
        }
    }
    if output is not None:
        capture["endpointOutput"] = {
            "observedContentType": "application/json",
            "data": output,
            "encoding": "JSON",
        }
    return json.dumps(
        {"captureData": capture, "eventMetadata": {"eventId": "e1", **meta}, "eventVersion": "0"}
    )


def test_platform_features_body_with_inference_id_and_prediction():
    batch = read_capture_lines(
        [_line('{"features": {"amount": 12.5, "country": "de"}}', inferenceId="inf-7")]
    )
    assert batch.columns == {"amount": [12.5], "country": ["de"]}
    assert batch.inference_ids == ["inf-7"] and batch.predictions == [0.8]


def test_csv_and_base64_inputs_use_the_feature_order():
    csv_line = _line("1.5,de", encoding="CSV", output=None)
    b64_line = _line(base64.b64encode(b"2.5,fr").decode(), encoding="BASE64", output=None, csv=True)
    batch = read_capture_lines([csv_line, b64_line], ["amount", "country"])
    assert batch.columns == {"amount": ["1.5", "2.5"], "country": ["de", "fr"]}


def test_instances_become_one_row_each():
    batch = read_capture_lines([_line('{"instances": [{"a": 1}, {"a": 2, "b": "x"}]}')])
    assert batch.columns == {"a": [1, 2], "b": [None, "x"]}
    assert batch.inference_ids == ["e1#0", "e1#1"]


def test_bad_lines_are_counted_with_reasons_and_others_kept():
    lines = [
        "not json",
        json.dumps({"eventMetadata": {}}),
        _line("1.0,2.0", encoding="CSV"),  # positional without feature names
        _line('{"features": {"a": 3}}'),
        "",
    ]
    batch = read_capture_lines(lines, source="s3://b/k.jsonl")
    assert batch.rows == 1 and batch.bad_lines == 3
    assert [p.field for p in batch.problems] == ["s3://b/k.jsonl:1", "s3://b/k.jsonl:2", "s3://b/k.jsonl:3"]
    assert "captureData" in batch.problems[1].reason
    assert "needs the model's feature names" in batch.problems[2].reason


def test_prediction_shapes():
    outputs = {"0.3": 0.3, '{"score": 0.4}': 0.4, "[[0.5, 0.5]]": 0.5, '{"label": "cat"}': None}
    for output, expected in outputs.items():
        batch = read_capture_lines([_line('{"features": {"a": 1}}', output=output)])
        assert batch.predictions == [expected], output
