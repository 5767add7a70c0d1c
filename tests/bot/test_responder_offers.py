"""The responder's replies that are not answers: a notice in a language the bot does not speak, off-topic messages,
a repeated intent, and what changes when nobody from the team is in. Each offers a person when one can come."""

from __future__ import annotations

import numpy as np
import pytest

from bot.knowledge_base import Intent, KnowledgeBase
from bot.responder import (
    NOTHING_MORE,
    NOTHING_MORE_NOBODY_IN,
    OUT_OF_SCOPE,
    OUT_OF_SCOPE_NOBODY_IN,
    Responder,
)
from detectors.languages import load_languages
from detectors.thresholds import LanguageThresholds
from detectors.types import Turn
from models.analysis import TurnAnalysis

KB = KnowledgeBase(
    "Test store",
    (
        Intent("track_order", "orders", ("where is my order",), "Track it at /orders."),
        Intent("thanks", "small_talk", ("thanks",), "You're welcome!"),
    ),
)


def analysis(
    intents: tuple[tuple[str, float], ...] = (("track_order", 0.9),),
    out_of_scope: float = 0.0,
    language: str = "en",
    confidence: float = 0.95,
) -> TurnAnalysis:
    return TurnAnalysis(
        "text",
        np.zeros(3, np.float32),
        0.0,
        0.0,
        intents,
        out_of_scope,
        language=language,
        language_confidence=confidence,
    )


def responder(knowledge_base: KnowledgeBase = KB) -> Responder:
    return Responder(knowledge_base, match_threshold=0.4, out_of_scope=0.5)


def answered(intent: str) -> tuple[Turn, ...]:
    return (Turn("customer", "first"), Turn("bot", "the answer", intent=intent))


def test_a_message_in_a_language_the_bot_does_not_speak_gets_the_notice_in_that_language() -> None:
    reply = responder().reply(analysis(language="es", confidence=0.9))
    spanish = load_languages()["es"]
    assert reply.text == spanish.notice.replace("{languages}", "inglés")
    assert "{languages}" not in reply.text
    assert reply.offers_person and reply.language == "es" and reply.intent is None


def test_the_notice_names_every_language_the_deployment_speaks() -> None:
    bilingual = KnowledgeBase(KB.name, KB.intents, languages=("en", "fr"))
    reply = responder(bilingual).reply(analysis(language="de", confidence=0.9))
    assert "Englisch / Französisch" in reply.text and reply.language == "de"


def test_a_language_the_deployment_speaks_is_answered() -> None:
    bilingual = KnowledgeBase(KB.name, KB.intents, languages=("en", "es"))
    reply = responder(bilingual).reply(analysis(language="es", confidence=0.9))
    assert reply.text == "Track it at /orders." and reply.language == "en"


def test_an_unsure_language_guess_is_answered() -> None:
    reply = responder().reply(analysis(language="es", confidence=0.5), language=LanguageThresholds(confidence=0.6))
    assert reply.intent == "track_order"


def test_a_language_without_shipped_notices_is_answered() -> None:
    reply = responder().reply(analysis(language="sw", confidence=0.99))  # Swahili: not in the languages file
    assert reply.intent == "track_order"


@pytest.mark.parametrize("out_of_scope", [0.5, 0.9])
def test_an_out_of_scope_message_is_declined_with_an_offer(out_of_scope: float) -> None:
    reply = responder().reply(analysis(out_of_scope=out_of_scope))
    assert reply.text == OUT_OF_SCOPE and "not something I can help with" in reply.text
    assert reply.offers_person and reply.intent is None
    assert reply.confidence == pytest.approx(0.9)


def test_just_below_out_of_scope_the_answer_is_given() -> None:
    reply = responder().reply(analysis(out_of_scope=0.49))
    assert reply.text == "Track it at /orders." and not reply.offers_person


def test_the_same_intent_again_gets_everything_i_have_instead_of_the_answer() -> None:
    reply = responder().reply(analysis(), history=answered("track_order"))
    assert reply.text == NOTHING_MORE and "everything I have on this" in reply.text
    assert reply.offers_person and reply.intent is None


def test_a_different_intent_before_does_not_stop_the_answer() -> None:
    reply = responder().reply(analysis(), history=answered("thanks"))
    assert reply.intent == "track_order" and reply.text == "Track it at /orders."


def test_only_the_bot_last_answer_counts() -> None:
    history = (*answered("track_order"), Turn("customer", "thanks"), Turn("bot", "You're welcome!", intent="thanks"))
    assert responder().reply(analysis(), history=history).intent == "track_order"


def test_small_talk_may_repeat() -> None:
    reply = responder().reply(analysis((("thanks", 0.9),)), history=answered("thanks"))
    assert reply.text == "You're welcome!" and reply.intent == "thanks"


def test_with_nobody_in_the_notice_invites_an_email_and_offers_nobody() -> None:
    reply = responder().reply(analysis(language="es", confidence=0.9), people_available=False)
    assert reply.text == load_languages()["es"].notice_nobody.replace("{languages}", "inglés")
    assert "correo" in reply.text and not reply.offers_person


def test_with_nobody_in_out_of_scope_invites_an_email_and_offers_nobody() -> None:
    reply = responder().reply(analysis(out_of_scope=0.9), people_available=False)
    assert reply.text == OUT_OF_SCOPE_NOBODY_IN and "email" in reply.text
    assert not reply.offers_person


def test_with_nobody_in_a_repeat_invites_an_email_and_offers_nobody() -> None:
    reply = responder().reply(analysis(), history=answered("track_order"), people_available=False)
    assert reply.text == NOTHING_MORE_NOBODY_IN and "email" in reply.text
    assert not reply.offers_person


def test_an_answer_never_offers_a_person() -> None:
    reply = responder().reply(analysis())
    assert reply.text == "Track it at /orders." and not reply.offers_person and reply.language == "en"
