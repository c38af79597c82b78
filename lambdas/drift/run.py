"""The steps every drift run shares: profile the window's objects, then score and publish.

The single-process scheduled function runs both steps; the distributed run does the
first one per object in a Map state and the second one once, on the merged partials.
Both go through `profile_object` and `finish`, so they give the same result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from lambdas.common.errors import InputError, Problem
from lambdas.drift import aws_io
from lambdas.drift.dataset_profile import DatasetProfile, merge_profiles, profile_current
from lambdas.drift.settings import Settings
from lambdas.drift.window_reader import object_columns


@dataclass
class ObjectProfile:
    profile: DatasetProfile
    bad_lines: int = 0
    problems: list[Problem] = field(default_factory=list)


def profile_object(
    s3: Any, settings: Settings, baseline: DatasetProfile, bucket: str, key: str
) -> ObjectProfile:
    """Profile of one object on the baseline's bins; an unreadable object becomes a problem."""
    source = f"s3://{bucket}/{key}"
    try:
        read = object_columns(aws_io.read_bytes(s3, bucket, key), key, source, baseline, settings)
    except InputError as exc:
        empty = DatasetProfile({}, 0)
        return ObjectProfile(empty, 0, [Problem(source, "; ".join(exc.lines()))])
    except (ClientError, UnicodeDecodeError, OSError, EOFError) as exc:
        # an object that vanished or is not readable (or decodable) is one problem, not a failed run
        return ObjectProfile(DatasetProfile({}, 0), 0, [Problem(source, f"cannot be read: {exc}")])
    profile = profile_current(baseline, read.columns)
    if read.rows == 0:
        profile = DatasetProfile({}, 0, profile.problems)
    missing = [n for n in read.columns if n not in baseline.features]
    problems = [
        *read.problems,
        *(Problem(f"{source}:{n}", "feature unknown to the baseline") for n in missing),
    ]
    return ObjectProfile(profile, read.bad_lines, problems)


def merge_object_profiles(baseline: DatasetProfile, parts: list[DatasetProfile]) -> DatasetProfile:
    """Merge partials; an empty window still yields a profile (of zero rows) to score."""
    non_empty = [p for p in parts if p.rows]
    if not non_empty:
        return profile_current(baseline, {name: [] for name in baseline.features})
    return merge_profiles(non_empty)


def partial_key(settings: Settings, run_id: str, object_key: str) -> str:
    digest = hashlib.sha256(object_key.encode()).hexdigest()[:24]
    return f"{settings.prefix}/runs/{run_id}/partials/{digest}.json"


def window_key(settings: Settings, window_end: datetime, name: str) -> str:
    return f"{settings.prefix}/windows/{window_end:%Y-%m-%dT%H}/{name}"


def run_id_for(settings: Settings, window_end: datetime) -> str:
    return f"{settings.model_name}-{window_end:%Y%m%dT%H}"
