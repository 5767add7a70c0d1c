"""`[models] backend = "onnx-int8"` starts on the shipped int8 heads and judges messages with the int8 pass, live and
offline alike (a replay must read what the service reads)."""

from __future__ import annotations

import pytest

from bot.config import STORE_KNOWLEDGE_BASE
from bot.knowledge_base import load_knowledge_base
from escalator.analysis import build_analysis, build_analyzer
from models.backends import INT8

pytestmark = pytest.mark.slow


def test_the_int8_backend_starts_on_its_shipped_heads_and_scores_messages(encoder, model_cache) -> None:  # type: ignore[no-untyped-def]
    from models.onnx_pass import OnnxPass

    analyzer = build_analyzer(encoder, load_knowledge_base(STORE_KNOWLEDGE_BASE), model_cache, INT8)
    assert isinstance(analyzer.encoder, OnnxPass) and analyzer.encoder.precision == "int8"
    asks, routine, angry = analyzer.analyze(
        ["I want to talk to a real person", "where is my parcel?", "This is the third time I ask and nobody answers!"]
    )
    assert asks.human_request > 0.9 > 0.1 > routine.human_request
    assert angry.frustration is not None and routine.frustration is not None
    assert angry.frustration > routine.frustration


def test_offline_tools_run_the_int8_pass_when_it_is_the_backend(encoder, make_settings) -> None:  # type: ignore[no-untyped-def]
    from models.onnx_pass import OnnxPass

    analysis = build_analysis(make_settings(models={"backend": INT8}), encoder=encoder)
    assert isinstance(analysis.analyzer.encoder, OnnxPass) and analysis.analyzer.encoder.precision == "int8"
    assert analysis.assess("c1", [], "can I speak to a human please").decision.escalate
