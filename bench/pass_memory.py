"""Resident memory of the analysis (encoder, sentiment branch, heads) after it has served a few batches, for one
backend per process, so the two can be compared.

    .venv/bin/python -m bench.pass_memory [--backend onnx|onnx-int8|torch]
"""

from __future__ import annotations

import argparse
import json

from bench.messages import SAMPLE_MESSAGES
from bot.config import STORE_KNOWLEDGE_BASE
from bot.knowledge_base import load_knowledge_base
from escalator.analysis import build_analyzer
from models.backends import BACKENDS
from models.config import ModelSettings
from models.encoder import SentenceEncoder


def resident_kib() -> dict[str, int]:
    """Current and peak resident set size of this process, from /proc (Linux)."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return {"resident_mib": fields["VmRSS"] // 1024, "peak_resident_mib": fields["VmHWM"] // 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=BACKENDS, default=ModelSettings().backend)
    args = parser.parse_args()
    encoder = SentenceEncoder(threads=1)
    analyzer = build_analyzer(
        encoder, load_knowledge_base(STORE_KNOWLEDGE_BASE), ModelSettings().cache_dir, args.backend
    )
    for size in (1, 8, 32):  # both of the ONNX pass's routes, and the service's largest batch
        analyzer.analyze([SAMPLE_MESSAGES[i % len(SAMPLE_MESSAGES)] for i in range(size)])
    print(json.dumps({"backend": args.backend, "live_pass": type(analyzer.encoder).__name__, **resident_kib()}))


if __name__ == "__main__":
    main()
