"""Names and S3 locations of one retraining run, derived from the execution."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

#: Key prefix in the artifact bucket under which every run keeps its data, checkpoints and output.
ARTIFACT_PREFIX = "retraining"
#: SageMaker job names: 63 characters of [a-zA-Z0-9-]; the pipeline appends "-" + 8 characters.
_JOB_NAME_MAX = 63
_SUFFIX_LEN = 9
_RUN_ID_LEN = len("20240101T000000")


def sanitize_name(text: str) -> str:
    cleaned = re.sub(r"[^a-zA-Z0-9-]+", "-", text).strip("-")
    return re.sub(r"-{2,}", "-", cleaned) or "model"


@dataclass(frozen=True)
class RunNames:
    run_id: str
    job_prefix: str
    training_data_uri: str
    checkpoint_uri: str
    output_uri: str
    evaluation_uri: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _model_part(model: str) -> str:
    return sanitize_name(model)[: _JOB_NAME_MAX - _SUFFIX_LEN - _RUN_ID_LEN - 1].strip("-")


def job_name_pattern(model: str) -> re.Pattern[str]:
    """Matches the training jobs of any run of `model` and of no other model (the run id and
    attempt suffix pin the shape, so "fraud" does not match "fraud-v2" jobs)."""
    return re.compile(rf"^{re.escape(_model_part(model))}-\d{{8}}T\d{{6}}-[0-9a-f]{{8}}$")


def run_names(
    model: str, started: datetime, artifact_bucket: str, artifact_prefix: str = ARTIFACT_PREFIX
) -> RunNames:
    """All per-run names. The checkpoint URI is per run, shared by every attempt of that run,
    which is what lets a retried spot job resume from the previous attempt's checkpoints."""
    run_id = started.strftime("%Y%m%dT%H%M%S")
    model_part = _model_part(model)
    base = f"s3://{artifact_bucket}/{artifact_prefix.strip('/')}/{sanitize_name(model)}/{run_id}"
    return RunNames(
        run_id=run_id,
        job_prefix=f"{model_part}-{run_id}",
        training_data_uri=f"{base}/training-set/",
        checkpoint_uri=f"{base}/checkpoints/",
        output_uri=f"{base}/output/",
        evaluation_uri=f"{base}/evaluation/metrics.json",
    )
