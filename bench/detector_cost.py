"""What a turn costs after the encoder pass (sentiment branch included): every embedding head on a batch of 32,
and every detector plus the policy.

    .venv/bin/python -m bench.detector_cost
"""

from __future__ import annotations

import json
import time

import numpy as np

from bench.messages import SAMPLE_MESSAGES
from detectors.types import Conversation, Turn
from escalator.analysis import build_analysis
from escalator.settings import Settings
from models.sentences import sentence_spans


def main() -> None:
    analysis = build_analysis(Settings())
    analyses = analysis.analyze_many(SAMPLE_MESSAGES)
    conversation = Conversation("bench", tuple(Turn("customer", a.text, a) for a in analyses[:8]))
    suite, thresholds = analysis.suite, analysis.thresholds.current
    rounds = 300
    start = time.perf_counter()
    for _ in range(rounds):
        suite.run(conversation, thresholds)
    detectors_ms = (time.perf_counter() - start) / rounds * 1000
    texts = (SAMPLE_MESSAGES * 3)[:32]
    _, probabilities, sentences = analysis.analyzer.encoder.encode_with_sentences(  # type: ignore[attr-defined]
        texts, analysis.analyzer.branch, [sentence_spans(t) if len(sentence_spans(t)) > 1 else () for t in texts]
    )
    embeddings = np.stack([a.embedding for a in analyses] * 3)[:32]
    spans = [sentence_spans(t) if len(sentence_spans(t)) > 1 else () for t in texts]
    start = time.perf_counter()
    for _ in range(30):
        analysis.analyzer.analyze_embeddings(texts, embeddings, probabilities, sentences, spans)
    heads_ms = (time.perf_counter() - start) / 30 * 1000
    print(
        json.dumps(
            {
                "detectors_and_policy_ms_per_turn": round(detectors_ms, 3),
                "heads_ms_per_batch_of_32": round(heads_ms, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
