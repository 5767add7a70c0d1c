"""What judges a customer message, built from the settings: the knowledge base, the models fitted to it, the
past-escalation bank, the detectors, the responder and the live thresholds.

The server builds it in the background after it starts serving (it takes seconds: torch, the ONNX pass, the
intent fit); the offline tools, the benchmarks and the tests build it as it is (no web framework, no database).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge_base import KnowledgeBase, load_knowledge_base
from bot.pipeline import Analyze, Assessment, Pipeline
from bot.responder import Responder
from detectors.pattern_similarity import EscalationBank
from detectors.registry import DetectorContext, DetectorSuite
from detectors.thresholds import LiveThresholds
from detectors.types import Turn
from escalator.settings import Settings
from models.analysis import Analyzer, DeploymentHeads, TextAnalyzer, TurnAnalysis
from models.backends import INT8, HeadWeights, Precision
from models.embedding_cache import CachingEncoder, cached
from models.encoder import BranchEncoder, Encoder, SentenceEncoder, digest_of, features_of
from models.example_classes import fit_from_texts
from models.frustration import FrustrationBaseline, FrustrationHead
from models.heads import SENTIMENT_BRANCH_WEIGHTS, human_request
from models.intent import load_or_fit
from models.language import LanguageIdentifier
from models.sentiment_branch import SentimentBranch
from models.stuck_signs import StuckSigns

logger = logging.getLogger("escalator")


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything that judges a customer message, built once: the same for the server and the offline tools."""

    settings: Settings
    knowledge_base: KnowledgeBase
    analyzer: TextAnalyzer
    bank: EscalationBank
    suite: DetectorSuite
    responder: Responder
    thresholds: LiveThresholds

    def pipeline(self, analyze: Analyze, thresholds: LiveThresholds | None = None) -> Pipeline:
        """The per-turn pipeline on top of an analysis function (the server's worker, or a replay's cache), judging
        with the live thresholds or, for a replay, the ones given."""
        return Pipeline(analyze, self.suite, self.responder, thresholds or self.thresholds)

    def analyze_many(self, texts: Sequence[str]) -> list[TurnAnalysis]:
        """One batched pass for many texts (replays analyse every customer turn of a file this way)."""
        return self.analyzer.analyze(list(texts))

    def assess(self, conversation_id: str, history: Sequence[Turn], text: str) -> Assessment:
        """One turn through the pipeline, synchronously (the `escalator detect` command)."""

        async def analyze(message: str) -> TurnAnalysis:
            return self.analyzer.analyze([message])[0]

        return asyncio.run(self.pipeline(analyze).assess(conversation_id, history, text))


def build_analysis(
    settings: Settings,
    *,
    analyzer: TextAnalyzer | None = None,
    encoder: SentenceEncoder | None = None,
    live: bool = False,
    thresholds: LiveThresholds | None = None,
    knowledge_base: KnowledgeBase | None = None,
) -> Analysis:
    """The knowledge base, the models fitted to it, the bank, the detectors and the responder.

    `live` runs the pass on the configured backend (ONNX Runtime by default), as the server does; offline tools run
    the torch pass, or the int8 pass when that is the backend. A given `analyzer` (a test's fake) replaces the models;
    `encoder` shares an already loaded one; `thresholds` and `knowledge_base`, the server's own.
    """
    knowledge_base = knowledge_base or load_knowledge_base(settings.bot.knowledge_base)
    if analyzer is None:
        encoder = encoder or SentenceEncoder(threads=settings.models.torch_threads)
        # Offline, torch stands in for the fp32 ONNX pass (equal to 1e-5, and faster on a replay's large batches); the
        # int8 pass's features are its own, so a replay of an int8 deployment runs it, as the server does.
        backend = settings.models.backend if live or settings.models.backend == INT8 else "torch"
        analyzer = build_analyzer(
            encoder, knowledge_base, settings.models.cache_dir, backend, settings.models.torch_threads
        )
    bank = load_bank(knowledge_base, analyzer.encoder, settings.models.cache_dir)
    return Analysis(
        settings=settings,
        knowledge_base=knowledge_base,
        analyzer=analyzer,
        bank=bank,
        suite=DetectorSuite.build(detector_context(knowledge_base, bank)),
        responder=Responder(knowledge_base, settings.bot.match_threshold, settings.bot.out_of_scope),
        thresholds=thresholds or LiveThresholds(settings.detectors, settings.shadow_detectors),
    )


def build_analyzer(
    encoder: SentenceEncoder, knowledge_base: KnowledgeBase, cache_dir: Path, backend: str = "torch", threads: int = 1
) -> Analyzer:
    """The shared pass with the sentiment branch inside it, then every head on its embeddings; the intent model, the
    case types and the frustration baseline are fitted to the knowledge base. `backend` "onnx" runs the pass on
    ONNX Runtime; "onnx-int8" runs its int8 version, with the int8 heads, and fits those three on its features."""
    branch = encoder.load_branch(SENTIMENT_BRANCH_WEIGHTS)
    live_pass: BranchEncoder = encoder
    if backend in ("onnx", INT8):
        live_pass = onnx_or_torch(encoder, branch, cache_dir / "onnx", threads, "int8" if backend == INT8 else "fp32")
    # The fitted heads must read what the live pass makes: torch fits fp32 ones (the same features as fp32 ONNX, and
    # faster on the knowledge base's hundreds of examples); int8 ones come from the int8 pass itself.
    fitting_pass = live_pass if backend == INT8 else encoder
    weights = HeadWeights.of(backend)
    intents = load_or_fit(knowledge_base.examples(), fitting_pass, cache_dir / "intent" / features_of(fitting_pass))
    heads = fit_deployment_heads(fitting_pass, branch, knowledge_base, cache_dir, weights)
    return Analyzer(live_pass, branch, human_request(weights.human_request), intents, deployment=heads)


def fit_deployment_heads(
    encoder: BranchEncoder,
    branch: SentimentBranch,
    knowledge_base: KnowledgeBase,
    cache_dir: Path,
    weights: HeadWeights,
) -> DeploymentHeads:
    """The heads every deployment fits to itself at start-up, on `encoder`'s features, beside the shipped `weights`
    trained on the same features; the encoder's outputs for the deployment's fixed texts are cached per pass."""
    cached_encoder = CachingEncoder(encoder, cache_dir / "embeddings")
    routine = [text for text, _ in knowledge_base.examples()]
    cases = None
    if knowledge_base.case_types:
        examples = {case.name: case.examples for case in knowledge_base.case_types}
        cases = fit_from_texts(cached_encoder, examples, [*routine, *knowledge_base.not_cases])
    frustration = FrustrationHead.load(weights.frustration)
    probabilities = cached(
        routine,
        lambda texts: encoder.encode_with_branch(texts, branch)[1],
        cache_dir / "embeddings",
        f"branch-{digest_of(branch)[:12]}",
        features=features_of(encoder),
    )
    routine_log_odds = frustration.log_odds(cached_encoder.encode(routine), probabilities)
    intents = [name for _, name in knowledge_base.examples()]
    return DeploymentHeads(
        cases=cases,
        signs=StuckSigns.load(weights.stuck_signs),
        frustration=frustration,
        baseline=FrustrationBaseline.fit(routine_log_odds.tolist(), intents, frustration.reference),
        languages=LanguageIdentifier(),
    )


def load_bank(knowledge_base: KnowledgeBase, encoder: Encoder, cache_dir: Path) -> EscalationBank:
    """The deployment's past escalations (empty without any); their vectors are cached, not encoded at every start."""
    if knowledge_base.past_escalations is None:
        return EscalationBank(dim=encoder.dim)
    return EscalationBank.from_seed_file(
        knowledge_base.past_escalations, CachingEncoder(encoder, cache_dir / "embeddings")
    )


def detector_context(knowledge_base: KnowledgeBase, bank: EscalationBank) -> DetectorContext:
    """What the detectors need to know about the deployment."""
    return DetectorContext(
        bank=bank,
        case_labels={case.name: case.label for case in knowledge_base.case_types},
        spoken=knowledge_base.languages,
        small_talk=frozenset(i.name for i in knowledge_base.intents if i.topic == "small_talk"),
    )


def onnx_or_torch(
    encoder: SentenceEncoder, branch: SentimentBranch, cache_dir: Path, threads: int, precision: Precision = "fp32"
) -> BranchEncoder:
    """The ONNX Runtime pass; if it cannot be built, the torch pass, which is slower but gives the same answers.

    The int8 pass has no such fallback: torch's features are not the ones its heads and thresholds were fitted on, so
    failing to build it stops the start, with the reason."""
    try:
        from models.onnx_pass import OnnxPass, export_path
        from models.quantized_pass import quantized_path

        exported = export_path(encoder, branch, cache_dir)
        if not exported.exists():
            print(
                f"Exporting the encoder pass for ONNX Runtime, once (about a minute); it is kept in {cache_dir}",
                flush=True,
            )
        if precision == "int8" and not quantized_path(exported).exists():
            print(f"Quantizing the encoder pass to int8, once (seconds); it is kept in {cache_dir}", flush=True)
        return OnnxPass(encoder, branch, cache_dir, threads, precision)
    except Exception as error:  # a missing runtime or a failed export must not keep the service down
        if precision == "int8":
            raise RuntimeError(
                f"the int8 pass cannot be built ({error}); set [models] backend to 'onnx' or 'torch' to serve without it"
            ) from error
        logger.warning("the ONNX Runtime pass is unavailable, serving with the torch pass instead: %s", error)
        return encoder
