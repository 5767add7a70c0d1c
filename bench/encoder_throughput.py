"""Raw encoder throughput at batch sizes 1, 8 and 32, for a chosen number of torch threads.

    .venv/bin/python -m bench.encoder_throughput [--threads 1] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import time

from bench.messages import SAMPLE_MESSAGES
from models.encoder import SentenceEncoder


def measure(encoder: SentenceEncoder, batch_size: int, seconds: float) -> dict[str, float]:
    batch = [SAMPLE_MESSAGES[i % len(SAMPLE_MESSAGES)] for i in range(batch_size)]
    encoder.encode(batch)  # warm-up
    passes, latencies = 0, []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        encoder.encode(batch, batch_size=batch_size)
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
    results = [measure(encoder, size, args.seconds) for size in (1, 8, 32)]
    print(json.dumps({"threads": args.threads, "results": results}, indent=2))


if __name__ == "__main__":
    main()
