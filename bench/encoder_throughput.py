"""Encoder throughput at batch sizes 1, 4, 8, 16 and 32, for a chosen number of threads: the raw encoder
(`encode`), and the pass the service runs, with the sentiment branch forking off it (`encode_with_branch`),
on torch, on ONNX Runtime (exported once into the service's cache, var/cache/onnx), and on its int8 version
(quantized once beside it; it runs each message of a batch on its own, see models.onnx_pass).

    .venv/bin/python -m bench.encoder_throughput [--threads 1] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from bench.messages import SAMPLE_MESSAGES
from models.config import ModelSettings
from models.encoder import SentenceEncoder
from models.heads import SENTIMENT_BRANCH_WEIGHTS
from models.onnx_pass import OnnxPass


def measure(run: Callable[[list[str]], object], batch_size: int, seconds: float) -> dict[str, float]:
    batch = [SAMPLE_MESSAGES[i % len(SAMPLE_MESSAGES)] for i in range(batch_size)]
    run(batch)  # warm-up
    passes, latencies = 0, []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        run(batch)
        latencies.append(time.perf_counter() - t0)
        passes += 1
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "batch_size": batch_size,
        "messages_per_s": round(passes * batch_size / elapsed, 1),
        "pass_ms_p50": round(1000 * latencies[len(latencies) // 2], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    encoder = SentenceEncoder(threads=args.threads)
    branch = encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS)
    onnx_pass = OnnxPass(encoder, branch, ModelSettings().cache_dir / "onnx", args.threads)
    int8_pass = OnnxPass(encoder, branch, ModelSettings().cache_dir / "onnx", args.threads, precision="int8")
    runs = {
        "encode": lambda texts: encoder.encode(texts, batch_size=len(texts)),
        "encode_with_branch": lambda texts: encoder.encode_with_branch(texts, branch, batch_size=len(texts)),
        # Every batch on ONNX Runtime, to show where it leads torch and where it falls behind.
        "onnx_encode_with_branch": lambda texts: onnx_pass.encode_with_branch(texts, branch, onnx_max_batch=len(texts)),
        "int8_encode_with_branch": lambda texts: int8_pass.encode_with_branch(texts, branch),
    }
    results = {name: [measure(run, size, args.seconds) for size in (1, 4, 8, 16, 32)] for name, run in runs.items()}
    print(json.dumps({"threads": args.threads, **results}, indent=2))


if __name__ == "__main__":
    main()
