"""Feature store benchmark against a moto server on loopback.

Reads 100 entities x 200 features and 1 entity x 200 features; prints round trips per
request, client CPU time per value decoded (decode alone, and the whole client call
including botocore's response parsing), p50/p99 latency and writes per second.

    .venv/bin/python bench/feature_store.py [--requests 200]

Loopback moto is not DynamoDB: latencies are moto's, useful for comparing client
versions, not for predicting production numbers; CPU is measured with thread_time on the calling thread (a request of <= 100 ids runs inline), so the in-process moto server threads are not counted.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from moto.server import ThreadedMotoServer

from lambdas.feature_store.client import FeatureStoreClient, NoMetrics
from lambdas.feature_store.online_item import parse_item
from lambdas.feature_store.reads import ReadPlan, Status
from lambdas.feature_store.registry import Dtype, Feature, FeatureGroup, Registry

N_FEATURES = 200
N_ENTITIES = 100
TABLE = "bench-online"
BUCKET = "bench-offline"


def group() -> FeatureGroup:
    return FeatureGroup(
        name="bench",
        entity_key="entity_id",
        owner_team="bench",
        features=tuple(
            Feature(name=f"f{i:03d}", dtype=Dtype.FLOAT64, max_age_seconds=3600 if i % 2 else None)
            for i in range(N_FEATURES)
        ),
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="eu-west-1"
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1")
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        g = group()
        client = FeatureStoreClient(
            table_name=TABLE,
            registry=Registry([g]),
            offline_bucket=BUCKET,
            dynamodb=dynamodb,
            s3=s3,
            metrics=NoMetrics(),
            max_workers=4,
            deadline_seconds=5.0,
        )
        rng = random.Random(1)
        now = time.time()
        ids = [f"entity-{i}" for i in range(N_ENTITIES)]

        # Writes: each batch is one offline Parquet file plus one conditional PutItem per record.
        write_rounds = 5
        started = time.perf_counter()
        for r in range(write_rounds):
            records = [
                {"entity_id": e, "event_time": now - 60 + r, **{f.name: rng.random() for f in g.features}}
                for e in ids
            ]
            outcomes = client.put_records("bench", records)
            assert outcomes.count(outcomes.results[0].outcome) == N_ENTITIES
        write_seconds = time.perf_counter() - started
        writes_per_s = write_rounds * N_ENTITIES / write_seconds

        print(f"feature store bench: moto server {endpoint}, {N_FEATURES} float64 features per entity")
        print(f"writes: {writes_per_s:,.0f} records/s (batches of {N_ENTITIES}, 200 features each)")

        for n_entities in (N_ENTITIES, 1):
            request_ids = ids[:n_entities]
            client.get_features("bench", request_ids)  # warm connections
            latencies, trips, cpu = [], [], []
            for _ in range(args.requests):
                cpu0, t0 = time.thread_time(), time.perf_counter()
                response = client.get_features("bench", request_ids)
                latencies.append((time.perf_counter() - t0) * 1000)
                cpu.append(time.thread_time() - cpu0)
                trips.append(response.round_trips)
                assert response.status_counts[Status.PRESENT] == n_entities * N_FEATURES
            values = n_entities * N_FEATURES
            # Pure decode cost: the items as DynamoDB returned them, decoded by the read plan.
            raw = dynamodb.batch_get_item(
                RequestItems={TABLE: {"Keys": [{"pk": {"S": f"bench#{e}"}} for e in request_ids]}}
            )["Responses"][TABLE]
            items = [parse_item("bench", it) for it in raw]
            plan = ReadPlan(g, g.feature_names)
            now_ms = int(time.time() * 1000)
            loops = max(1, 20_000 // values) * 10
            d0 = time.thread_time()
            for _ in range(loops):
                for item in items:
                    plan.decode(item, now_ms)
            decode_us = (time.thread_time() - d0) / (loops * values) * 1e6
            client_us = statistics.mean(cpu) / values * 1e6
            print(
                f"read {n_entities:>3} x {N_FEATURES}: round trips/request {statistics.mean(trips):.2f}, "
                f"p50 {percentile(latencies, 0.5):.2f} ms, p99 {percentile(latencies, 0.99):.2f} ms, "
                f"decode CPU {decode_us:.3f} us/value, whole client call CPU {client_us:.3f} us/value"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
