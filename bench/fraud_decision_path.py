"""Latency of the fraud decision path: features → velocity → score → decision → audit → review.

AWS is moto in process (DynamoDB feature store and window state, S3 audit log, SQS review
and ingestion queues); the model is the trained artifact scored in process through its
SageMaker inference script. Every request's time is split into time spent inside AWS SDK
calls (moto here, network + service in production) and the rest: the decision path's own
work, whose p99 the budget in examples/fraud_detection/README.md bounds (< 50 ms).

    .venv/bin/python bench/fraud_decision_path.py [--requests 1000] [--writer queue|direct]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "examples" / "fraud_detection")]

BUDGET_P99_MS = 50.0


class Ledger:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.calls = 0


class TimedClient:
    """A boto3 client whose method calls add their duration to a ledger."""

    def __init__(self, inner: Any, ledger: Ledger) -> None:
        self._inner = inner
        self._ledger = ledger

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr) or name.startswith("_") or name in ("get_paginator", "can_paginate"):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return attr(*args, **kwargs)
            finally:
                self._ledger.seconds += time.perf_counter() - started
                self._ledger.cpu_seconds += time.thread_time() - cpu
                self._ledger.calls += 1

        return timed


def percentiles(values: list[float]) -> str:
    a = np.asarray(values)
    return f"p50 {np.percentile(a, 50):6.2f}  p90 {np.percentile(a, 90):6.2f}  p99 {np.percentile(a, 99):6.2f}  max {a.max():7.2f}"


def run(requests: int, writer: str, cards: int, seed: int) -> bool:
    import boto3
    from fraud_service.audit import AuditLog
    from fraud_service.decision_service import FraudDecisionService, ReviewQueue
    from fraud_service.feature_groups import CARD_PROFILE, FEATURE_GROUPS, MERCHANT_PROFILE, VELOCITY_SPEC
    from fraud_service.feature_writer import FeatureStoreWriter, IngestionQueueWriter, VelocityWriter
    from fraud_service.local_scorer import LocalScorer
    from fraud_service.train import extract, train_and_package
    from fraud_service.transaction import parse_transaction
    from fraud_service.velocity import VelocityWindows
    from moto import mock_aws

    from lambdas.feature_store.client import FeatureStoreClient, NoMetrics
    from lambdas.feature_store.registry import Registry

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        started = time.perf_counter()
        report = train_and_package(Path(tmp), n=20_000, seed=seed, max_iter=100)
        scorer = LocalScorer(extract(report.artifact, Path(tmp) / "model"))
        print(
            f"model {report.model_version}: held-out AUC {report.heldout_auc:.4f} "
            f"(trained in {time.perf_counter() - started:.1f} s)"
        )

        ledger = Ledger()
        ddb, s3, sqs = (boto3.client(s) for s in ("dynamodb", "s3", "sqs"))
        for table in ("online", "state"):
            ddb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        s3.create_bucket(Bucket="offline")
        s3.create_bucket(Bucket="audit", ObjectLockEnabledForBucket=True)
        review_url = sqs.create_queue(QueueName="review")["QueueUrl"]
        ingest_url = sqs.create_queue(QueueName="ingest")["QueueUrl"]

        tddb, ts3, tsqs = TimedClient(ddb, ledger), TimedClient(s3, ledger), TimedClient(sqs, ledger)
        client = FeatureStoreClient(
            table_name="online",
            registry=Registry(FEATURE_GROUPS),
            offline_bucket="offline",
            dynamodb=tddb,
            s3=ts3,
            metrics=NoMetrics(),
        )
        profile_time = time.time() - 3600
        merchants = max(10, cards // 4)
        client.put_records(
            CARD_PROFILE.name,
            [
                {
                    "card_id": f"c{i}",
                    "event_time": profile_time,
                    "avg_amount_90d": float(rng.lognormal(4, 0.7)),
                    "std_amount_90d": float(rng.lognormal(3, 0.5)),
                    "card_age_days": int(rng.integers(1, 3000)),
                    "home_country": "US",
                }
                for i in range(cards)
            ],
        )
        client.put_records(
            MERCHANT_PROFILE.name,
            [
                {
                    "merchant_id": f"m{i}",
                    "event_time": profile_time,
                    "risk_score": float(rng.beta(2, 20)),
                    "chargeback_rate_90d": float(rng.beta(1, 300)),
                }
                for i in range(merchants)
            ],
        )
        velocity_writer: VelocityWriter = (
            IngestionQueueWriter(tsqs, ingest_url) if writer == "queue" else FeatureStoreWriter(client)
        )
        service = FraudDecisionService(
            features=client,
            velocity=VelocityWindows(tddb, "state", VELOCITY_SPEC),
            velocity_writer=velocity_writer,
            scorer=scorer,
            audit=AuditLog(ts3, "audit"),
            review_queue=ReviewQueue(tsqs, review_url),
        )
        now = datetime.now(UTC)
        offsets = np.sort(rng.uniform(0, 240, requests))[::-1]
        txns = [
            parse_transaction(
                {
                    "transaction_id": f"t{i}",
                    "card_id": f"c{rng.integers(cards)}",
                    "merchant_id": f"m{rng.integers(merchants)}",
                    "amount": round(float(rng.lognormal(4, 1)), 2),
                    "currency": "USD",
                    "country": "US" if rng.random() < 0.9 else "FR",
                    "event_time": (now - timedelta(seconds=float(offsets[i]))).isoformat(),
                }
            )
            for i in range(requests)
        ]
        for warm in txns[:20]:
            service.decide(warm)
        gc.collect()
        totals, aws_ms, own_ms, own_cpu_ms, calls = [], [], [], [], []
        stages: dict[str, list[float]] = {}
        outcomes: dict[str, int] = {}
        for txn in txns[20:]:
            before_s, before_cpu, before_n = ledger.seconds, ledger.cpu_seconds, ledger.calls
            t0, c0 = time.perf_counter(), time.thread_time()
            result = service.decide(txn)
            total = (time.perf_counter() - t0) * 1000
            cpu = (time.thread_time() - c0) * 1000
            own_cpu_ms.append(cpu - (ledger.cpu_seconds - before_cpu) * 1000)
            in_aws = (ledger.seconds - before_s) * 1000
            totals.append(total)
            aws_ms.append(in_aws)
            own_ms.append(total - in_aws)
            calls.append(ledger.calls - before_n)
            outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
            for stage, ms in result.timings_ms.items():
                stages.setdefault(stage, []).append(ms)

    n = len(totals)
    print(
        f"\n{n} decisions (after 20 warm-up), writer={writer}, {cards} cards, outcomes {outcomes}, "
        f"{np.mean(calls):.1f} AWS calls per decision"
    )
    print(f"{'total with moto':<28} {percentiles(totals)}  ms")
    print(f"{'inside AWS SDK calls (moto)':<28} {percentiles(aws_ms)}  ms")
    print(f"{'decision path, excl. AWS':<28} {percentiles(own_ms)}  ms (wall clock)")
    print(f"{'decision path, excl. AWS':<28} {percentiles(own_cpu_ms)}  ms (CPU time of the thread)")
    print("\nper stage (wall time, AWS calls included):")
    for stage, values in stages.items():
        print(f"  {stage:<26} {percentiles(values)}  ms")
    # The budget is checked on the thread's CPU time: on a shared host the wall-clock tail
    # measures the neighbours' load (a Lambda function has its vCPU share to itself).
    p99 = float(np.percentile(own_cpu_ms, 99))
    wall_p99 = float(np.percentile(own_ms, 99))
    ok = p99 < BUDGET_P99_MS
    print(
        f"\nbudget: decision path p99 excl. network {p99:.2f} ms CPU ({wall_p99:.2f} ms wall clock) "
        f"{'<' if ok else '>='} {BUDGET_P99_MS} ms: {'PASS' if ok else 'FAIL'}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--writer", choices=("queue", "direct"), default="queue")
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return 0 if run(args.requests + 20, args.writer, args.cards, args.seed) else 1


if __name__ == "__main__":
    sys.exit(main())
