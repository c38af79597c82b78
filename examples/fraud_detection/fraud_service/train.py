"""Train the fraud classifier on the synthetic generator and package a SageMaker artifact.

``python -m fraud_service.train --out DIR`` writes ``DIR/model.tar.gz`` (``model.joblib``,
``metadata.json``, ``code/inference.py``) and ``DIR/drift-baseline.json`` (the platform's
drift profile of the held-out inputs and scores), and prints the held-out AUC. Upload the
artifact and point the stack's ``model_artifact`` at it; upload the baseline to the
stack's ``DriftBaselineUri``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from fraud_service import inference
from fraud_service.model_features import MODEL_FEATURES
from fraud_service.synthetic import generate

ARTIFACT = "model.tar.gz"
DRIFT_BASELINE = "drift-baseline.json"
# The drift monitor's default name for the model's output in captured data.
PREDICTION = "prediction"


@dataclass(frozen=True)
class TrainingReport:
    artifact: Path
    model_version: str
    heldout_auc: float
    train_rows: int
    heldout_rows: int
    fraud_rate: float
    drift_baseline: Path


@dataclass(frozen=True)
class Trained:
    model: HistGradientBoostingClassifier
    heldout_auc: float
    heldout_features: np.ndarray
    heldout_scores: np.ndarray
    train_rows: int
    fraud_rate: float


def train(*, n: int = 60_000, seed: int = 7, max_iter: int = 200) -> Trained:
    data = generate(n, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(
        data.features, data.labels, test_size=0.25, random_state=seed, stratify=data.labels
    )
    model = HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=0.08, max_leaf_nodes=31, l2_regularization=1.0, random_state=seed
    )
    # One OpenMP thread: on a shared machine more threads than free cores slow the fit
    # down more than tenfold, and the data set is small.
    with threadpool_limits(1):
        model.fit(x_train, y_train)
        scores = model.predict_proba(x_test)[:, 1]
    auc = float(roc_auc_score(y_test, scores))
    return Trained(model, auc, x_test, scores, len(y_train), float(data.labels.mean()))


def write_drift_baseline(trained: Trained, out_dir: Path) -> Path:
    """The platform's drift baseline profile of the held-out inputs and scores.

    Upload it to the stack's ``DriftBaselineUri``: the monitor compares captured requests
    (named ``features``) and responses (``scores``, read as ``prediction``) with it.
    """
    from lambdas.drift.dataset_profile import profile_baseline
    from lambdas.drift.serialization import dumps

    columns = {name: trained.heldout_features[:, i] for i, name in enumerate(MODEL_FEATURES)}
    columns[PREDICTION] = trained.heldout_scores
    profile = profile_baseline(columns, kinds=dict.fromkeys(columns, "numeric"))
    path = out_dir / DRIFT_BASELINE
    path.write_text(dumps(profile))
    return path


def package(model: HistGradientBoostingClassifier, out_dir: Path, *, heldout_auc: float) -> tuple[Path, str]:
    """Write model.tar.gz into `out_dir`; the version is a hash of the serialized model."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    model_bytes = buffer.getvalue()
    version = f"fraud-hgb-{hashlib.sha256(model_bytes).hexdigest()[:12]}"
    metadata = {
        "model_version": version,
        "feature_names": list(MODEL_FEATURES),
        "sklearn_version": sklearn.__version__,
        "heldout_auc": heldout_auc,
    }
    files = {
        inference.MODEL_FILE: model_bytes,
        inference.METADATA_FILE: json.dumps(metadata, indent=2).encode(),
        # No code/requirements.txt: the container would pip install it at start-up, which
        # fails behind the endpoint's network isolation. The script needs only what the
        # image has; model_fn checks the scikit-learn version instead.
        "code/inference.py": Path(inference.__file__).read_bytes(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ARTIFACT
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return path, version


def train_and_package(
    out_dir: Path, *, n: int = 60_000, seed: int = 7, max_iter: int = 200
) -> TrainingReport:
    trained = train(n=n, seed=seed, max_iter=max_iter)
    path, version = package(trained.model, out_dir, heldout_auc=trained.heldout_auc)
    baseline = write_drift_baseline(trained, out_dir)
    return TrainingReport(
        path,
        version,
        trained.heldout_auc,
        trained.train_rows,
        len(trained.heldout_scores),
        trained.fraud_rate,
        baseline,
    )


def extract(artifact: Path, into: Path | None = None) -> Path:
    """Unpack an artifact the way SageMaker does (into /opt/ml/model); returns the directory."""
    target = into or Path(tempfile.mkdtemp(prefix="fraud-model-"))
    with tarfile.open(artifact, "r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for model.tar.gz")
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    report = train_and_package(args.out, n=args.rows, seed=args.seed)
    print(
        f"{report.artifact}: {report.model_version}, held-out AUC {report.heldout_auc:.4f} "
        f"({report.train_rows} train / {report.heldout_rows} held-out rows, fraud rate {report.fraud_rate:.2%})"
    )
    print(f"{report.drift_baseline}: drift baseline of the held-out inputs and scores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
