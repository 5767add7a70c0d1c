"""The bot's responder: answers from the knowledge base with the intent the shared encoder pass found, unless the
answer would not help, in which case it says so and offers a person instead.

In order, the bot:
1. answers a message in a language it does not speak with a short notice in that language (detectors/languages);
2. says it cannot help with an off-topic message (`out_of_scope`, the intent model's calibrated score) rather
   than give the nearest answer with confidence ("where is my order?" must never get the refund answer);
3. admits it is unsure below `match_threshold`;
4. never gives the same answer twice in a row: the second time it says that is all it has;
5. otherwise answers.

Every reply but an answer offers a person, and says so in `offers_person`, so that a "yes" can accept it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.knowledge_base import KnowledgeBase
from detectors.language import foreign_language
from detectors.languages import load_languages
from detectors.thresholds import LanguageThresholds
from detectors.types import Turn
from models.analysis import TurnAnalysis

DEFAULT_GREETING = (
    "Hi! I'm the {store} assistant, a bot. Ask me a question in your own words. "
    "If you'd like a person at any point, just say so."
)
FALLBACK = (
    "I'm not sure I understood that. Could you put it another way? "
    "If you'd rather, just say so and I'll connect you with a person."
)
FALLBACK_NOBODY_IN = (
    "I'm not sure I can help with that, and nobody from the team is in right now. "
    "Leave your email address and a short message here and we'll write back."
)
OUT_OF_SCOPE = "Sorry, that's not something I can help with here. Would you like me to connect you with a person?"
OUT_OF_SCOPE_NOBODY_IN = (
    "Sorry, that's not something I can help with here, and nobody from the team is in right now. "
    "Leave your email address and a short message here and we'll write back."
)
NOTHING_MORE = (
    "I'm afraid that's everything I have on this, and I don't want to repeat myself. "
    "Would you like me to connect you with a person who can look into it?"
)
NOTHING_MORE_NOBODY_IN = (
    "I'm afraid that's everything I have on this, and nobody from the team is in right now. "
    "Leave your email address and a short message here and we'll write back."
)


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    intent: str | None  # None when the bot did not answer from the knowledge base
    confidence: float
    offers_person: bool = False  # the reply offers to bring in a person, so "yes" accepts
    language: str = "en"  # the language the reply is written in


DEFAULT_LANGUAGE = LanguageThresholds()


class Responder:
    """Picks the knowledge-base answer for a customer turn, or says why it will not give one."""

    def __init__(
        self,
        knowledge_base: KnowledgeBase,
        match_threshold: float,
        out_of_scope: float = 0.5,
        small_talk_topic: str = "small_talk",
    ) -> None:
        self.knowledge_base = knowledge_base
        self.match_threshold = match_threshold
        self.out_of_scope = out_of_scope
        self._small_talk = {i.name for i in knowledge_base.intents if i.topic == small_talk_topic}

    def reply(
        self,
        analysis: TurnAnalysis,
        history: Sequence[Turn] = (),
        people_available: bool = True,
        language: LanguageThresholds = DEFAULT_LANGUAGE,
    ) -> Reply:
        intent, confidence = analysis.top_intent, analysis.top_confidence
        foreign = foreign_language(analysis, self.knowledge_base.languages, language)
        if foreign is not None and foreign in load_languages():
            return self._notice(foreign, confidence, people_available)
        if analysis.out_of_scope >= self.out_of_scope:
            text = OUT_OF_SCOPE if people_available else OUT_OF_SCOPE_NOBODY_IN
            return Reply(text, None, confidence, offers_person=people_available)
        if intent is None or confidence < self.match_threshold:
            return Reply(FALLBACK if people_available else FALLBACK_NOBODY_IN, None, confidence, people_available)
        last = next((turn for turn in reversed(history) if turn.role == "bot"), None)
        if last is not None and last.intent == intent and intent not in self._small_talk:
            text = NOTHING_MORE if people_available else NOTHING_MORE_NOBODY_IN
            return Reply(text, None, confidence, offers_person=people_available)
        return Reply(self.knowledge_base.intent(intent).answer, intent, confidence)

    def _notice(self, code: str, confidence: float, people_available: bool) -> Reply:
        """'I only speak English; would you like a person?', in the customer's language."""
        data = load_languages()[code]
        template = data.notice if people_available else data.notice_nobody
        text = template.replace("{languages}", data.names_of(self.knowledge_base.languages))
        return Reply(text, None, confidence, offers_person=people_available, language=code)
