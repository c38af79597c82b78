"""HNSW recall@10 and query time against exact search, to choose the k-NN index defaults.

faiss-cpu IndexHNSWFlat at the platform's default m / ef_construction (from
lambdas.vector_search.index_spec.HnswParameters, the defaults the KnnIndex construct uses) versus
IndexFlatL2 on random Gaussian vectors, for several ef_search values. Random high-dimensional
vectors have no cluster structure, which makes them the hard case for HNSW: real embeddings
usually reach a given recall at a lower ef_search.

    .venv/bin/python bench/vector.py                  # 100,000 x 768, ef_search 50/100/200
    .venv/bin/python bench/vector.py --n 20000 --m 16 32 --ef-search 50 100 200 256 400
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lambdas.vector_search.index_spec import HnswParameters


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth, strict=True))
    return hits / (k * truth.shape[0])


def main(argv: list[str] | None = None) -> int:
    import faiss  # heavy import only when the bench actually runs

    defaults = HnswParameters()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="vectors in the index")
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--m", type=int, nargs="+", default=[defaults.m])
    parser.add_argument("--ef-construction", type=int, default=defaults.ef_construction)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[50, 100, 200, defaults.ef_search])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    base = rng.standard_normal((args.n, args.dim), dtype=np.float32)
    queries = rng.standard_normal((args.queries, args.dim), dtype=np.float32)
    print(f"data: {args.n} x {args.dim} float32, {args.queries} queries, k={args.k}, threads={args.threads}")
    print(
        f"platform defaults: m={defaults.m} ef_construction={defaults.ef_construction} ef_search={defaults.ef_search}"
    )

    exact = faiss.IndexFlatL2(args.dim)
    exact.add(base)
    started = time.perf_counter()
    _, truth = exact.search(queries, args.k)
    exact_ms = (time.perf_counter() - started) * 1000 / args.queries
    print(f"exact IndexFlatL2: {exact_ms:.2f} ms/query", flush=True)

    print("m   ef_construction  build_s  ef_search  recall@10  ms/query")
    for m in args.m:
        index = faiss.IndexHNSWFlat(args.dim, m)
        index.hnsw.efConstruction = args.ef_construction
        started = time.perf_counter()
        step = max(args.n // 10, 1)
        for offset in range(0, args.n, step):
            index.add(base[offset : offset + step])
            print(
                f"  building m={m}: {min(offset + step, args.n)}/{args.n} "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        build_s = time.perf_counter() - started
        for ef_search in sorted(set(args.ef_search)):
            index.hnsw.efSearch = ef_search
            started = time.perf_counter()
            _, found = index.search(queries, args.k)
            ms = (time.perf_counter() - started) * 1000 / args.queries
            recall = recall_at_k(found, truth, args.k)
            print(
                f"{m:<3} {args.ef_construction:<16} {build_s:<8.0f} {ef_search:<10} {recall:<10.4f} {ms:.3f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
