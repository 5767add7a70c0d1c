from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.config import STORE_KNOWLEDGE_BASE as DEMO_KNOWLEDGE_BASE
from bot.knowledge_base import Intent, KnowledgeBase, load_knowledge_base
from bot.responder import FALLBACK, FALLBACK_NOBODY_IN, Responder
from escalator.analysis import build_analyzer
from models.analysis import TurnAnalysis

PARAPHRASES = Path(__file__).resolve().parent / "data" / "kb_paraphrases.yaml"
KB = KnowledgeBase("Test store", (Intent("track_order", "orders", ("where is my order",), "Track it at /orders."),))


def analysis(intents):
    return TurnAnalysis("text", np.zeros(3, np.float32), 0.0, 0.0, tuple(intents), 0.0)


def test_answers_with_the_top_intent_above_the_threshold():
    reply = Responder(KB, match_threshold=0.4).reply(analysis([("track_order", 0.7)]))
    assert (reply.text, reply.intent) == ("Track it at /orders.", "track_order")


def test_below_the_threshold_it_says_it_is_unsure_and_offers_a_person():
    reply = Responder(KB, match_threshold=0.4).reply(analysis([("track_order", 0.39)]))
    assert reply.text == FALLBACK and reply.intent is None and "person" in reply.text


def test_when_nobody_is_in_the_fallback_asks_for_contact_details():
    reply = Responder(KB, match_threshold=0.4).reply(analysis([]), people_available=False)
    assert reply.text == FALLBACK_NOBODY_IN and "email" in reply.text


@pytest.mark.slow
def test_held_out_paraphrases_are_answered_with_the_right_intent(encoder, model_cache):
    """The acceptance figure: at least 90% of questions phrased unlike any example get the right answer."""
    knowledge_base = load_knowledge_base(DEMO_KNOWLEDGE_BASE)
    analyzer = build_analyzer(encoder, knowledge_base, model_cache)
    responder = Responder(knowledge_base, match_threshold=0.35)
    cases = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))
    analyses = analyzer.analyze([case["text"] for case in cases])
    right = sum(responder.reply(a).intent == case["intent"] for a, case in zip(analyses, cases, strict=False))
    accuracy = right / len(cases)
    print(f"paraphrase accuracy {accuracy:.3f} ({right}/{len(cases)})")
    assert accuracy >= 0.90
