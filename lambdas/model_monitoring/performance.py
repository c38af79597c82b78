"""Classification metrics of captured predictions once ground-truth labels arrive.

Labels are joined to predictions by inference id. AUC is the Mann-Whitney statistic
U / (n_pos * n_neg) with average ranks for tied scores, which is the area under the ROC
curve with ties counted as one half (the same value as sklearn's roc_auc_score).
Accuracy, precision and recall use `score >= threshold` as the positive prediction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class Joined:
    scores: np.ndarray
    labels: np.ndarray
    predictions_without_label: int
    labels_without_prediction: int
    predictions_without_score: int


def join_labels(
    inference_ids: Sequence[str], scores: Sequence[float | None], labels: Mapping[str, float]
) -> Joined:
    """Pairs (score, label) for every inference id present on both sides."""
    pairs = [
        (s, labels[i]) for i, s in zip(inference_ids, scores, strict=True) if i in labels and s is not None
    ]
    no_score = sum(1 for i, s in zip(inference_ids, scores, strict=True) if i in labels and s is None)
    matched = {i for i in inference_ids if i in labels}
    return Joined(
        scores=np.array([p[0] for p in pairs], dtype=np.float64),
        labels=np.array([p[1] for p in pairs], dtype=np.float64),
        predictions_without_label=len(inference_ids) - sum(1 for i in inference_ids if i in labels),
        labels_without_prediction=len(labels.keys() - matched),
        predictions_without_score=no_score,
    )


@dataclass(frozen=True)
class Performance:
    status: str  # ok | no_labels | one_class
    n: int
    positives: int
    accuracy: float = math.nan
    precision: float = math.nan
    recall: float = math.nan
    f1: float = math.nan
    auc: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()
        }


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    positive = labels == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(scores)
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def classification_performance(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> Performance:
    n = int(labels.size)
    if n == 0:
        return Performance("no_labels", 0, 0)
    truth = labels == 1
    predicted = scores >= threshold
    tp = int(np.sum(truth & predicted))
    fp = int(np.sum(~truth & predicted))
    fn = int(np.sum(truth & ~predicted))
    positives = int(truth.sum())
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else math.nan
    status = "ok" if 0 < positives < n else "one_class"
    return Performance(
        status=status,
        n=n,
        positives=positives,
        accuracy=float(np.mean(truth == predicted)),
        precision=precision,
        recall=recall,
        f1=f1,
        auc=roc_auc(scores, labels),
    )
