"""Train the fraud classifier on the synthetic generator and package a SageMaker artifact.

``python -m fraud_service.train --out DIR`` writes ``DIR/model.tar.gz`` (``model.joblib``,
``metadata.json``, ``code/inference.py``) and prints the held-out
AUC. Upload it and point the stack's ``model_artifact`` at it.
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
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from fraud_service import inference
from fraud_service.model_features import MODEL_FEATURES
from fraud_service.synthetic import generate

ARTIFACT = "model.tar.gz"


@dataclass(frozen=True)
class TrainingReport:
    artifact: Path
    model_version: str
    heldout_auc: float
    train_rows: int
    heldout_rows: int
    fraud_rate: float


def train(
    *, n: int = 60_000, seed: int = 7, max_iter: int = 200
) -> tuple[HistGradientBoostingClassifier, float, int, int, float]:
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
    auc = float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))
    return model, auc, len(y_train), len(y_test), float(data.labels.mean())


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
    model, auc, n_train, n_test, rate = train(n=n, seed=seed, max_iter=max_iter)
    path, version = package(model, out_dir, heldout_auc=auc)
    return TrainingReport(path, version, auc, n_train, n_test, rate)


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
