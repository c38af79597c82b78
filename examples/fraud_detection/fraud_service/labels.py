"""Reviewers' verdicts as ground truth for model monitoring.

A label is keyed by the inference id, which is the transaction id (the decision function
passes it as ``InferenceId`` to the endpoint, so data capture carries it). Files are JSON
Lines of ``{"inferenceId", "label", "reviewer", "labelled_at"}`` under
``<labels uri>/yyyy/mm/dd/hh/`` of the labelling time: the layout and line format the
platform's model-performance monitor reads (``lambdas.model_monitoring.ground_truth``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fraud_service.transaction import ID_PATTERN
from lambdas.common.errors import InputError, Problem

MAX_LABELS = 500
_VALUES = {"fraud": 1, "legit": 0, "1": 1, "0": 0, "true": 1, "false": 0}


@dataclass(frozen=True)
class Label:
    inference_id: str
    label: int
    reviewer: str


def _label_value(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str) and value.strip().lower() in _VALUES:
        return _VALUES[value.strip().lower()]
    raise ValueError(f"must be 1/0, true/false or 'fraud'/'legit', got {value!r}")


def parse_labels(body: Any) -> list[Label]:
    """``{"labels": [{"transaction_id", "label", "reviewer"}]}``; every problem is named."""
    import re

    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise InputError.single("(body)", f"is not valid JSON: {exc}", "labels") from None
    items = body.get("labels") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise InputError.single("labels", "must be a non-empty list", "labels")
    if len(items) > MAX_LABELS:
        raise InputError.single(
            "labels", f"at most {MAX_LABELS} labels per request, got {len(items)}", "labels"
        )
    labels: list[Label] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(Problem(f"labels[{i}]", "must be an object"))
            continue
        tid, reviewer = item.get("transaction_id"), item.get("reviewer")
        if not isinstance(tid, str) or not re.match(ID_PATTERN, tid):
            problems.append(Problem(f"labels[{i}].transaction_id", "must be a transaction id"))
        if not isinstance(reviewer, str) or not reviewer.strip():
            problems.append(Problem(f"labels[{i}].reviewer", "must name the reviewer"))
        try:
            value = _label_value(item.get("label"))
        except ValueError as exc:
            problems.append(Problem(f"labels[{i}].label", str(exc)))
            continue
        if isinstance(tid, str) and isinstance(reviewer, str):
            labels.append(Label(tid, value, reviewer.strip()))
    if problems:
        raise InputError(problems, "labels")
    return labels


def label_lines(labels: list[Label], labelled_at: datetime) -> bytes:
    stamp = labelled_at.isoformat().replace("+00:00", "Z")
    return b"".join(
        json.dumps(
            {
                "inferenceId": lab.inference_id,
                "label": lab.label,
                "reviewer": lab.reviewer,
                "labelled_at": stamp,
            },
            separators=(",", ":"),
        ).encode()
        + b"\n"
        for lab in labels
    )


def label_key(prefix: str, labelled_at: datetime, body: bytes) -> str:
    """Hour partition of the labelling time; the name hashes the content, so a retried
    request rewrites its own file instead of adding a copy."""
    base = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f"{base}{labelled_at.strftime('%Y/%m/%d/%H/')}labels-{digest}.jsonl"
