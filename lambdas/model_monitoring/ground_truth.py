"""Ground-truth label files (JSON Lines) to a mapping from inference id to a 0/1 label.

Accepted lines: SageMaker Model Monitor's ``{"groundTruthData": {"data": "1", "encoding":
"CSV"}, "eventMetadata": {"eventId": "..."}}`` and the plain ``{"inferenceId": "...",
"label": 1}``. Labels may be numbers, booleans or the strings "0"/"1"/"true"/"false". A bad
line is counted with its reason; the last label of an id wins (a correction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lambdas.common.errors import Problem

TRUE = {"1", "true", "yes", "1.0"}
FALSE = {"0", "false", "no", "0.0"}


@dataclass
class Labels:
    by_id: dict[str, float] = field(default_factory=dict)
    bad_lines: int = 0
    problems: list[Problem] = field(default_factory=list)


def _label(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and value in (0, 1):
        return float(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return 1.0
    if text in FALSE:
        return 0.0
    raise ValueError(f"label {value!r} is not 0/1")


def read_label_lines(lines: Iterable[str | bytes], source: str = "labels") -> Labels:
    out = Labels()
    for number, raw in enumerate(lines, start=1):
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if "groundTruthData" in entry:
                inference_id = entry["eventMetadata"]["eventId"]
                value = entry["groundTruthData"]["data"]
            else:
                inference_id, value = entry["inferenceId"], entry["label"]
            out.by_id[str(inference_id)] = _label(value)
        except (ValueError, KeyError, TypeError) as exc:
            out.bad_lines += 1
            if len(out.problems) < 20:
                detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
                out.problems.append(Problem(f"{source}:{number}", detail))
    return out
