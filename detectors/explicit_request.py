"""Explicit request: the customer asks for a human, in any phrasing and with typos.

The score is the human-request head's probability (`analysis.human_request`). A small rule reader goes
through the text clause by clause and finds every word naming a person (typos included: "humna",
"reprsentative"; glued to the words before it by a missed space: "tosomebody", "a bloodyperson"),
then gives each mention a role:

- `asks`: a contact verb or "to"/"with" leads up to it ("talk to a person", "get me a human");
- `negated`: "I don't need an agent", "do not transfer me to a human", "no agent needed";
- `reported`: "the agent I spoke to was rude", "I already talked to a rep", "a rep told me to wait";
- `identity`: asks whether the bot is a person ("are you a real person?", "am I talking to a human"),
  which the knowledge base answers;
- `mentions`: anything else ("is your manager in?").

A department ("customer service", "support", "billing team") counts as asked for only when the customer
asks to be handed over to it ("transfer me to customer service"): bitext files "how do I talk to customer
service" under a different intent, and the knowledge base answers it with the contact details.

The rules veto the head when every mention is negated, reported or about the bot's identity, or when a
farewell names nobody ("talk to you later"). They also lend the head evidence: when a mention `asks`, a lower probability
(`thresholds.with_phrase`) is enough, which recovers typo-ridden requests the embedding blurs
("how to speak tosomebody"). Without any person word the head decides alone, at `thresholds.threshold`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from detectors import languages
from detectors.text import edit_distance, shorten
from detectors.thresholds import ExplicitRequestThresholds
from detectors.types import Conversation, Signal

Role = Literal["asks", "mentions", "negated", "reported", "identity"]

# Who a customer may ask for. Plurals are matched by stripping a final "s".
PERSON_WORDS = frozenset(
    {
        "human", "agent", "person", "manager", "representative", "rep", "supervisor", "operator",
        "someone", "somebody", "staff", "employee", "advisor", "adviser", "associate", "people",
        "assistant", "humna", "hooman", "represenative", "team", "specialist", "expert", "anyone", "anybody",
        "colleague",
    }
)  # fmt: skip
# Real words one edit away from a person word: never read as a typo of one.
NEAR_MISSES = frozenset(
    {"manage", "managed", "manages", "urgent", "humane", "humor", "hunan", "agency", "prison", "parson",
     "persona", "poison", "operate", "opera", "stuff", "stiff", "associated", "peoples", "assistance",
     "assist", "assisted", "resistant", "statement", "export", "experts'", "specialty", "special", "expect",
     "expected", "employer", "employed", "operation", "socialist", "advise", "advised", "arent", "representation",
     "specialise", "specialize", "specializes", "assisting"}
)  # fmt: skip
NEGATORS = frozenset(
    {"don't", "dont", "do not", "didn't", "didnt", "doesn't", "doesnt", "won't", "wont", "never", "not"}
)  # fmt: skip
# A negator negates the request only right before a verb of wanting or of handing over: "I don't need
# an agent", "do not transfer me to a human". "I don't know how to talk to an agent" is still a request,
# and "can't reach a human" / "why won't you get me an agent" are complaints, so those are excluded.
DESIRE = frozenset({"need", "needs", "want", "wanna", "require", "ask", "asked", "asking", "like", "bother", "mean"})
HANDOVER = frozenset(
    {"transfer", "connect", "put", "send", "escalate", "call", "contact", "give", "get", "pass", "hand", "forward",
     "redirect", "route", "switch", "bother", "trouble"}
)  # fmt: skip
NOT_NEGATING_BEFORE = frozenset({"why", "can", "could", "cannot"})
# Past-interaction verbs before a mention: "I already spoke to an agent" (but not "to be contacted by").
TALKED = frozenset(
    {"spoke", "spoken", "talked", "chatted", "contacted", "called", "emailed", "met", "dealt", "reached"}
)  # fmt: skip
# Narration after a definite mention: "the agent I spoke to was rude", "your rep hung up on me".
NARRATION = frozenset(
    {"was", "were", "said", "says", "told", "tells", "hung", "gave", "promised", "refused", "spoke", "talked",
     "helped", "answered", "sent", "kept", "did", "didn't", "didnt", "couldn't", "couldnt", "wouldn't",
     "wouldnt", "hasn't", "hasnt", "haven't", "havent", "never", "had", "has", "claimed", "insisted",
     "assured", "explained", "mentioned", "suggested", "recommended", "advised", "is", "are"}
)  # fmt: skip
# Words that make a mention a wish even when narration follows: "I want the agent who helped me before".
REQUEST_CUES = frozenset(
    {"want", "need", "wanna", "speak", "talk", "chat", "connect", "transfer", "get", "put", "give"}
)
# Narration in the past after an indefinite mention: "a rep told me to wait", "an agent called me".
PAST_NARRATION = frozenset(
    {"was", "were", "said", "told", "helped", "promised", "gave", "hung", "sent", "refused", "explained",
     "mentioned", "suggested", "recommended", "advised", "claimed", "insisted", "assured", "answered", "spoke",
     "talked", "called", "emailed", "approved", "fixed", "sorted", "replied"}
)  # fmt: skip
# Questions about whether the bot is a person: an opener, then only these words up to the person word.
IDENTITY_OPENERS = (("are", "you"), ("you", "are"), ("r", "u"), ("am", "i"), ("is", "this"), ("you're",), ("youre",))
IDENTITY_FILLER = frozenset(
    {"a", "an", "the", "real", "actual", "actually", "live", "really", "even", "just", "talking", "speaking",
     "chatting", "to", "with", "human", "not", "still", "now", "right"}
)  # fmt: skip
# Departments: asked for only when handed over to ("transfer me to customer service", "put me through to billing").
DEPARTMENT = re.compile(
    r"\b(?:customer\s*(?:service|support|care|services)|support(?:\s+(?:team|line|desk|staff))?|help\s*desk|"
    r"billing|accounts|returns\s+(?:team|department)|\w+\s+department)\b",
    re.I,
)
DEPARTMENT_HANDOVER = re.compile(
    r"\b(?:transfer|connect|put|patch|forward|redirect|route|hand|pass|escalate|switch|loop|take)\w*\s+"
    r"(?:(?:me|this|it|my\s+\w+|the\s+chat|this\s+chat|us)\s+)?(?:(?:back\s+)?(?:through|over|on)\s+)?"
    r"(?:to|with|into|in\s+with)\s+(?:your\s+|the\s+|a\s+|an\s+)?$",
    re.I,
)
# Words that frame what follows as a request ("could", "is there", "I'd like"), and what a person is asked to do
# after being named ("someone ... look at it", "a human to ring me").
REQUEST_FRAMING = frozenset(
    {"could", "can", "would", "will", "may", "might", "possible", "there", "need", "needs", "want", "wanna", "like",
     "please", "pls", "plz", "have", "let", "get", "any", "anyone", "anybody", "somebody", "someone"}
)  # fmt: skip
HANDLING_VERBS = frozenset(
    {"look", "check", "ring", "phone", "email", "text", "review", "sort", "handle", "help", "explain", "deal", "call",
     "contact", "talk", "speak", "chat", "reach", "message"}
)  # fmt: skip
# Person words that name nobody in particular: asked for only when framed as a request and followed by what they
# should do ("is there anyone I could talk to"), never by a leading "with" alone ("meetings with anyone today").
WEAK_PERSON_WORDS = frozenset({"anyone", "anybody"})
DEFINITE = frozenset({"the", "your", "that", "this", "those", "these", "previous", "last", "other", "my", "his", "her"})
FAREWELL = re.compile(r"\b(?:talk|speak|chat)\w*\s+(?:to|with)\s+(?:you|u|ya|y'all)\b|\bttyl\b|\btalk\s+later\b", re.I)

# Verbs that lead up to the person asked for; typos one edit away count ("takl", "speek").
CONTACT_VERBS = frozenset(
    {"talk", "speak", "chat", "contact", "call", "reach", "connect", "transfer", "direct", "escalate", "put",
     "get", "see", "meet", "message", "phone", "ring", "redirect", "forward", "pass", "patch", "hand",
     "route", "give", "bring", "find", "want", "need"}
)  # fmt: skip
# Real words one edit away from a contact verb: never read as a typo of one ("what" is not "want",
# "that" is not "chat"), or "what makes humans so curious" would read as a request phrase.
VERB_NEAR_MISSES = frozenset(
    {"what", "that", "wait", "went", "watch", "live", "kind", "mind", "fine", "five", "king", "band", "land",
     "match", "catch", "pitch", "steak", "sneak", "hard", "walk", "wall", "ball", "hall", "tall", "fall",
     "each", "beach", "teach", "react", "breach", "past", "mass", "tank", "feed", "feet", "meat", "seed",
     "weed", "deed", "wind", "wing", "sing", "hang", "calm", "rant", "fund", "path", "peak", "chart", "cell",
     "sand", "handy", "contract", "iphone", "being", "boring", "cant", "wont", "wasnt", "yall"}
)  # fmt: skip
LEADING_WORDS = frozenset({"to", "with", "wth", "me"})
# Words a customer may run into the person word after them by missing a space: "tosomebody",
# "speak to a bloodyperson", "getmeahuman". A closed list, so that real compounds ("salesperson",
# "superhuman", "townspeople") stay whole words and name nobody.
GLUED_LEADS = tuple(
    sorted(
        LEADING_WORDS | CONTACT_VERBS
        | {"a", "an", "the", "my", "your", "some", "any", "another", "real", "live", "actual", "proper", "human",
           "bloody", "damn", "damned", "freaking", "frigging", "fricking", "fucking", "effing", "goddamn"},
        key=lambda lead: (-len(lead), lead),  # longest first, so every run splits the same way
    )
)  # fmt: skip
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?", re.I)
# Punctuation and conjunctions that start a new clause: a contact verb before "when" does not lead up to
# a person after it ("people get angry when someone says no").
_CLAUSE_BREAK = re.compile(
    r"[.;!?,:\n]+|\s(?:but|and then|however|instead|when|whenever|because|while|although)\s", re.I
)
_LOOKBEHIND = 8  # tokens before a mention that may carry its negation or past-tense verb
_LOOKAHEAD = 6  # tokens after a mention that may narrate what that person did ("the agent on the phone yesterday told")
_PHRASE_LEAD = 4  # tokens before the mention shown to the agent: "get me a human"


@dataclass(frozen=True, slots=True)
class Mention:
    """One word that names a person, its role in its clause, and the words around it."""

    word: str
    role: Role
    phrase: str  # the words leading up to it ("get me a human") or, for vetoed roles, its clause


@dataclass(frozen=True, slots=True)
class Reading:
    """What the rules read in a message: a veto, a request phrase, and what to show the agent."""

    vetoed: bool
    why: str | None  # "negated", "reported", "identity" or "farewell" when vetoed
    asks: bool  # a mention with a contact verb or "to"/"with" leading up to it
    phrase: str  # the request phrase, the vetoed mention's clause, or the message itself
    bare: bool = False  # the message is nothing but a person word and filler: "AGENT. NOW.", "operator please"


def _near(word: str, vocabulary: frozenset[str], min_length: int) -> bool:
    """`word` is in `vocabulary` or one edit from a long-enough entry (two edits for long words)."""
    if word in vocabulary:
        return True
    tolerance = 2 if len(word) >= 9 else 1 if len(word) >= min_length else 0
    return tolerance > 0 and any(
        len(entry) >= min_length
        and abs(len(word) - len(entry)) <= tolerance
        and edit_distance(word, entry) <= tolerance
        for entry in vocabulary
    )


@lru_cache(maxsize=8192)  # a chat reuses few words; the edit distances are the cost
def is_person_word(token: str) -> bool:
    """A person word, its plural, or a typo of one ("humna", "eprson", "reprsentative")."""
    word = token.lower().removesuffix("'s")
    if word in NEAR_MISSES or word.removesuffix("s") in NEAR_MISSES or len(word) < 3:
        return False
    if word.endswith("s") and len(word) > 4 and _near(word[:-1], PERSON_WORDS, 5):
        return True
    return _near(word, PERSON_WORDS, 5)


@lru_cache(maxsize=8192)
def is_contact_verb(token: str) -> bool:
    """A contact verb, its -ing form, or a typo of one ("takl", "speek"), but no real word near one."""
    word = token.lower()
    stem = word[:-3] if word.endswith("ing") else ""
    return any(w and w not in VERB_NEAR_MISSES and _near(w, CONTACT_VERBS, 4) for w in (word, stem))


# The leads by their first letter, longest first within each letter as in GLUED_LEADS.
_LEADS_BY_LETTER: dict[str, tuple[str, ...]] = {
    letter: tuple(lead for lead in GLUED_LEADS if lead[0] == letter) for letter in {lead[0] for lead in GLUED_LEADS}
}
# The longest word that can close a run: a person word with a plural "s" and a possessive "'s".
_LONGEST_CLOSING = max(len(word) for word in PERSON_WORDS) + len("s's")


def _closes_run(rest: str) -> bool:
    """`rest` is an exact person word (or its plural) of five letters or more: a shorter or misspelt ending is too
    often part of a real word."""
    return len(rest) >= 5 and rest.removesuffix("'s").removesuffix("s") in PERSON_WORDS


@lru_cache(maxsize=8192)
def glued_lengths(word: str) -> tuple[int, ...]:
    """Lengths of the words in a run of glued leads ending in a person word, or () if `word` is no such run:
    "tosomebody" -> (2, 8), "abloodyperson" -> (1, 6, 6).

    Read from the end of the word towards its start, one position at a time, so a word of any length (a run of
    1,200 "a"s, each a lead) costs linear time and no recursion. At each position the first lead (longest
    first) that is followed by the closing person word or by a run wins.
    """
    lower = word.lower()
    if len(lower) != len(word):  # "İ" lowers to two characters: lengths in `lower` would not fit `word`
        return ()
    size = len(lower)
    lead = [0] * (size + 1)  # lead[i]: the lead a run starting at i takes first, 0 when no run starts at i
    closed = [False] * (size + 1)  # closed[i]: what follows that lead is the closing person word
    for i in range(size - 1, -1, -1):
        for candidate in _LEADS_BY_LETTER.get(lower[i], ()):
            after = i + len(candidate)
            if after >= size or not lower.startswith(candidate, i):
                continue
            # Only a short rest can be the closing word: slicing a long one would make the loop quadratic.
            closes = size - after <= _LONGEST_CLOSING and _closes_run(lower[after:])
            if closes or lead[after]:
                lead[i], closed[i] = len(candidate), closes
                break
    if not lead[0]:
        return ()
    lengths: list[int] = []
    i = 0
    while not closed[i]:
        lengths.append(lead[i])
        i += lead[i]
    return (*lengths, lead[i], size - i - lead[i])


def _tokens(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """Words of text[start:end] with their offsets; a run glued to a person word is split into its words."""
    tokens: list[tuple[str, int, int]] = []
    for match in _TOKEN.finditer(text, start, end):
        begin = match.start()
        for length in glued_lengths(match.group(0)) or (match.end() - begin,):
            tokens.append((text[begin : begin + length], begin, begin + length))
            begin += length
    return tokens


def _is_negated(before: list[str], after: list[str]) -> bool:
    # "no human please", "no rep, just the link" (but "is there no human I can talk to?" still asks).
    if before[-1:] == ["no"] and not set(before[-2:-1]) & {"there", "is", "there's", "theres", "why"}:
        return True
    for k, word in enumerate(before):
        pair = " ".join(before[k : k + 2])
        if pair in {"no need", "rather not", "not necessary", "not needed", "no point"} or word == "without":
            return True
        if word not in NEGATORS and pair not in NEGATORS:
            continue
        rest = before[k + (2 if pair in NEGATORS else 1) :]
        if k > 0 and before[k - 1] in NOT_NEGATING_BEFORE or rest[:1] in (["you"], ["u"]):
            continue
        if (DESIRE | HANDOVER) & set(rest[:2]):
            return True
    return bool(before) and before[-1] in {"no", "not"} and bool({"needed", "necessary", "required"} & set(after))


def _is_reported(before: list[str], after: list[str]) -> bool:
    # "my neighbour told me that a real person...", "she said a manager would...": someone else's words.
    if any(
        before[k : k + 2] in (["told", "me"], ["told", "us"], ["said", "that"], ["says", "that"])
        for k in range(len(before))
    ):
        return True
    for k, word in enumerate(before):
        if word in TALKED and not (k > 0 and before[k - 1] in {"be", "to", "get", "been"}):
            return True
    determiner = next((w for w in reversed(before[-3:]) if w in DEFINITE or w in {"a", "an", "some"}), None)
    if REQUEST_CUES & set(before):
        return False
    if determiner in DEFINITE:
        return bool(NARRATION & set(after))
    return determiner is not None and bool(PAST_NARRATION & set(after[:2]))


def _is_identity_question(before: list[str]) -> bool:
    """'are you a real person', 'am I talking to a human': the opener, then only filler words."""
    for k in range(len(before) - 1, -1, -1):
        for opener in IDENTITY_OPENERS:
            if tuple(before[k : k + len(opener)]) == opener:
                return all(w in IDENTITY_FILLER for w in before[k + len(opener) :])
    return False


def _role(words: list[str], i: int) -> Role:
    before = words[max(0, i - _LOOKBEHIND) : i]
    after = words[i + 1 : i + 1 + _LOOKAHEAD]
    if _is_negated(before, after):
        return "negated"
    if _is_reported(before, after):
        return "reported"
    # The whole clause: only filler may follow the opener, and "am i chatting with an actual live human"
    # puts seven words before the person word.
    if _is_identity_question(words[:i]):
        return "identity"
    lead = before[-4:]
    if words[i] not in WEAK_PERSON_WORDS and any(w in LEADING_WORDS or is_contact_verb(w) for w in lead):
        return "asks"
    # The person first, then what they should do: "could someone who works there look at it", "is there
    # anyone I could talk to", "would it be possible for a human to ring me".
    if REQUEST_FRAMING & set(words[:i]) and HANDLING_VERBS & set(words[i + 1 : i + 8]):
        return "asks"
    return "mentions"


def find_mentions(text: str) -> list[Mention]:
    """Every person word in `text`, clause by clause, with its role and the words around it."""
    mentions: list[Mention] = []
    start = 0
    for clause_end in [m.start() for m in _CLAUSE_BREAK.finditer(text)] + [len(text)]:
        tokens = _tokens(text, start, clause_end)
        words = [t[0].lower() for t in tokens]
        for i, (word, _, end) in enumerate(tokens):
            if not is_person_word(word):
                continue
            role = _role(words, i)
            if role in ("negated", "reported", "identity"):
                phrase = shorten(text[start:clause_end])
            else:
                phrase = text[tokens[max(0, i - _PHRASE_LEAD)][1] : end]
            mentions.append(Mention(word, role, phrase))
        mentions += _department_requests(text, start, clause_end)
        start = clause_end
    return mentions


def _department_requests(text: str, start: int, end: int) -> list[Mention]:
    """Departments the customer asks to be handed over to: `asks`, or `negated` ("don't transfer me to billing")."""
    found = []
    for match in DEPARTMENT.finditer(text, start, end):
        lead_start = max(start, match.start() - 60)
        handover = DEPARTMENT_HANDOVER.search(text, lead_start, match.start())
        if handover is None:
            continue
        before = [t[0].lower() for t in _tokens(text, start, match.start())][-_LOOKBEHIND:]
        if _is_negated(before, []):
            found.append(Mention(match.group(0), "negated", shorten(text[start:end])))
        else:
            found.append(Mention(match.group(0), "asks", " ".join(text[handover.start() : match.end()].split())))
    return found


# Words that may stand beside a bare person word without changing what is asked: "real person please".
BARE_FILLER = frozenset(
    {"please", "pls", "plz", "now", "asap", "right", "immediately", "a", "an", "the", "real", "live", "actual",
     "some", "hi", "hello", "hey", "ok", "okay", "just", "thanks", "thank", "you"}
)  # fmt: skip
GRATITUDE = frozenset({"thanks", "thank"})


def is_bare_request(text: str) -> bool:
    """A message that is only a person word plus filler is a request, however terse: the head scores such
    one-word messages poorly because they carry so little text. Thanks before the person word addresses
    someone instead ("thanks team", "thank you agent")."""
    words = [w.lower() for w in _TOKEN.findall(text)]
    content = [i for i, w in enumerate(words) if w not in BARE_FILLER]
    if not 0 < len(content) <= 2 or not all(is_person_word(words[i]) for i in content):
        return False
    return not any(w in GRATITUDE for w in words[: content[0]])


def read_request(text: str) -> Reading:
    """Veto when every mention of a person is negated or reported, or a farewell names nobody."""
    mentions = find_mentions(text)
    wanted = [m for m in mentions if m.role in ("asks", "mentions")]
    if wanted:
        asking = [m for m in wanted if m.role == "asks"]
        bare = is_bare_request(text)
        return Reading(
            False, None, bool(asking) or bare, (asking or wanted)[0].phrase if not bare else shorten(text), bare
        )
    if mentions:
        return Reading(True, mentions[0].role, False, mentions[0].phrase)
    farewell = FAREWELL.search(text)
    if farewell:
        return Reading(True, "farewell", False, farewell.group(0))
    return Reading(False, None, False, shorten(text))


def decide(probability: float, reading: Reading, thresholds: ExplicitRequestThresholds) -> bool:
    """Fire when the head is confident enough (less so with a request phrase) and nothing vetoes."""
    if reading.vetoed:
        return False
    if reading.bare:
        return True
    needed = min(thresholds.threshold, thresholds.with_phrase) if reading.asks else thresholds.threshold
    return probability >= needed


_VETO_WORDS = {
    "negated": "negated", "reported": "reported speech", "farewell": "a farewell", "identity": "asks what the bot is"
}  # fmt: skip


class ExplicitRequestDetector:
    """The human-request head's probability on the newest customer message and on each of its sentences, read
    together with the rules; requests in languages the bot does not speak, from their phrases; and a yes to the
    bot's own offer of a person."""

    name = "explicit_request"

    def __init__(self, spoken: tuple[str, ...] = ("en",)) -> None:
        self.spoken = spoken  # languages the bot speaks; requests in the others are heard through their phrases

    def detect(self, conversation: Conversation, thresholds: ExplicitRequestThresholds) -> Signal:
        turns = [t for t in conversation.customer_turns if t.analysis is not None]
        if not turns:
            return Signal(self.name, 0.0, thresholds.threshold, False, "No customer message to judge yet.")
        analysis = turns[-1].analysis
        assert analysis is not None  # filtered above; narrows the type
        spoken_elsewhere = None
        if analysis.language not in self.spoken:  # another language, or too short to tell
            spoken_elsewhere = self._request_in_other_language(analysis.text, analysis.language)
        if spoken_elsewhere is not None:
            code, phrase = spoken_elsewhere
            reason = f"Asked for a person in {languages.load_languages()[code].name}: '{phrase}'"
            return Signal(self.name, 1.0, thresholds.threshold, True, reason, {"phrase": phrase, "language": code})
        offer = conversation.last_bot_turn
        if (
            offer is not None
            and offer.offers_person
            and languages.is_affirmative(
                analysis.text, tuple(dict.fromkeys(("en", *self.spoken, analysis.language or "en")))
            )
        ):
            reason = f"Said yes to the bot's offer of a person: '{shorten(analysis.text)}'"
            return Signal(
                self.name, 1.0, thresholds.threshold, True, reason, {"phrase": analysis.text, "accepted_offer": True}
            )
        # The whole message, then each sentence: a request after a problem statement must not be diluted by it.
        candidates = [(analysis.text, float(analysis.human_request))]
        candidates += [(sentence.text, float(sentence.human_request)) for sentence in analysis.sentences]
        judged = [(text, probability, read_request(text)) for text, probability in candidates]
        fired_at = next((j for j in judged if decide(j[1], j[2], thresholds)), None)
        text, probability, reading = fired_at or judged[0]
        fired = fired_at is not None
        threshold = min(thresholds.threshold, thresholds.with_phrase) if reading.asks else thresholds.threshold
        evidence: dict[str, object] = {"phrase": reading.phrase, "probability": round(probability, 3)}
        if len(judged) > 1:
            evidence["sentences"] = [round(p, 3) for _, p, _ in judged[1:]]
        if fired:
            reason = f"Asked for a person: '{reading.phrase}'"
        elif reading.vetoed:
            evidence["vetoed"] = reading.why
            reason = (
                f"Mentions a person but does not ask for one ({_VETO_WORDS[reading.why or '']}: '{reading.phrase}')"
            )
        else:
            best = max(p for _, p, _ in judged)
            reason = f"No request for a person ({best:.2f} < {threshold:.2f})"
        # A vetoed message scores 0 so that `fired` always agrees with `score >= threshold`.
        score = 0.0 if reading.vetoed else (1.0 if reading.bare else probability)
        return Signal(self.name, score, threshold, fired, reason, evidence)

    def _request_in_other_language(self, text: str, language: str) -> tuple[str, str] | None:
        """(language, phrase) when the message asks for a person in a language the bot does not speak."""
        table = languages.load_languages()
        order = [language] if language and language not in self.spoken else []
        order += [code for code in table if code not in self.spoken and code not in order and code != "en"]
        for code in order:
            phrase = languages.request_phrase(text, code, table)
            if phrase is not None:
                return code, phrase
        return None
