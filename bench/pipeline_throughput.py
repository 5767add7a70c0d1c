"""The full analysis of a customer turn (one encoder pass, every head, every detector, the policy) under load.

N concurrent conversations each send messages back to back; the analysis worker batches them.
Reports messages per second with p50/p99 latency, and at 100 conversations the ratio to the raw encoder's
throughput at batch 32 and to that of the pass the service runs (the encoder with the sentiment branch, on
the chosen backend, in the service's worker batches of 32).

    .venv/bin/python -m bench.pipeline_throughput [--threads 1] [--messages 400] [--backend onnx|onnx-int8|torch]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bench.encoder_throughput import measure
from bench.messages import SAMPLE_MESSAGES
from bot.pipeline import Pipeline
from detectors.types import Turn
from escalator.analysis import build_analysis
from escalator.settings import Settings
from models.backends import BACKENDS
from models.config import ModelSettings
from models.encoder import SentenceEncoder
from models.worker import AnalysisWorker


async def run(pipeline: Pipeline, conversations: int, total: int) -> dict[str, float]:
    per_conversation = max(1, total // conversations)
    latencies: list[float] = []

    async def converse(n: int) -> None:
        history: list[Turn] = []
        for i in range(per_conversation):
            text = SAMPLE_MESSAGES[(n + i) % len(SAMPLE_MESSAGES)]
            t0 = time.perf_counter()
            assessment = await pipeline.assess(f"c{n}", history[-20:], text)
            latencies.append(time.perf_counter() - t0)
            history.append(Turn("customer", text, assessment.analysis))

    start = time.perf_counter()
    await asyncio.gather(*(converse(n) for n in range(conversations)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "conversations": conversations,
        "messages": len(latencies),
        "messages_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms_p50": round(1000 * latencies[len(latencies) // 2], 1),
        "latency_ms_p99": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=3.0)
    parser.add_argument("--backend", choices=BACKENDS, default=ModelSettings().backend)
    args = parser.parse_args()

    # The service's own wiring and cache, so the ONNX export (about 20 s) happens once, not at every run.
    settings = Settings(models=ModelSettings(backend=args.backend, torch_threads=args.threads))
    encoder = SentenceEncoder(threads=args.threads)
    analysis = build_analysis(settings, encoder=encoder, live=True)
    analyzer = analysis.analyzer
    raw = measure(lambda texts: encoder.encode(texts, batch_size=32), 32, 5.0)["messages_per_s"]
    live_pass, branch = analyzer.encoder, analyzer.branch
    run_pass = live_pass.encode_with_branch  # type: ignore[attr-defined]
    with_branch = measure(lambda texts: run_pass(texts, branch), 32, 5.0)["messages_per_s"]
    results = []
    for conversations in (1, 10, 100):
        worker = AnalysisWorker(analyzer.analyze, args.max_batch, args.max_wait_ms)
        pipeline = analysis.pipeline(worker.analyze)
        messages = args.messages if conversations > 1 else max(50, args.messages // 4)
        by_backend = dict(getattr(live_pass, "batches", {}))  # the ONNX pass counts where its batches ran
        result = asyncio.run(run(pipeline, conversations, messages))
        result["encoder_passes"] = worker.batches
        if by_backend:
            result["passes_by_backend"] = {name: live_pass.batches[name] - by_backend[name] for name in by_backend}  # type: ignore[attr-defined]
        worker.close()
        results.append(result)
    at_100 = results[-1]["messages_per_s"]
    print(
        json.dumps(
            {
                "threads": args.threads,
                "backend": args.backend,
                "live_pass": type(live_pass).__name__,
                "raw_encoder_batch32_per_s": raw,
                "encoder_with_branch_batch32_per_s": with_branch,
                "pipeline": results,
                "ratio_at_100_to_raw_encoder": round(at_100 / raw, 3),
                "ratio_at_100_to_encoder_with_branch": round(at_100 / with_branch, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
