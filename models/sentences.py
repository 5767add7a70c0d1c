"""A message's sentences, found by punctuation and line breaks, and their vectors pooled from the message's own pass.

Customers put the part that matters anywhere: "My tent came torn and the returns page errors out. Can I talk to
someone?" A head reading the whole message sees the request diluted by the problem before it. Reading each
sentence on its own would cost an encoder pass per sentence; instead each sentence's vector is the mean of the
last layer's token states over its own tokens, taken from the one pass the message already had. Those token
states have seen the whole message, so a sentence's vector leans a little towards its neighbours; the heads only
ever take the strongest sentence, so that lean can add evidence from a neighbour but never hide a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

Span = tuple[int, int]  # [start, end) character offsets into the message

# A sentence ends at ., ! or ? (or an ellipsis) followed by space, or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?…])\s+|\s*\n\s*")
_WORD = re.compile(r"\w")
MIN_WORD_CHARACTERS = 2  # shorter pieces ("!!", ":)") join a neighbouring sentence


def sentence_spans(text: str) -> tuple[Span, ...]:
    """The sentences of `text` as spans, trimmed of surrounding space; a one-sentence text gives one span."""
    spans: list[Span] = []
    start = 0
    for boundary in [*_BOUNDARY.finditer(text), None]:
        end = boundary.start() if boundary else len(text)
        piece = text[start:end]
        stripped_start = start + (len(piece) - len(piece.lstrip()))
        stripped_end = start + len(piece.rstrip())
        if stripped_end > stripped_start:
            if len(_WORD.findall(text[stripped_start:stripped_end])) < MIN_WORD_CHARACTERS and spans:
                spans[-1] = (spans[-1][0], stripped_end)
            else:
                spans.append((stripped_start, stripped_end))
        if boundary:
            start = boundary.end()
    # A short piece at the very start ("!! Where is my order?") joins the sentence after it.
    if len(spans) > 1 and len(_WORD.findall(text[spans[0][0] : spans[0][1]])) < MIN_WORD_CHARACTERS:
        spans[1] = (spans[0][0], spans[1][1])
        del spans[0]
    return tuple(spans)


def pool_spans(token_states: np.ndarray, offsets: np.ndarray, spans: Sequence[Span]) -> np.ndarray:
    """L2-normalised mean of the token states inside each span, (len(spans), dim).

    `token_states` (tokens, dim) and `offsets` (tokens, 2) describe one message; special and padding tokens have
    empty offsets and never count. A span no token falls in (past truncation) gets the whole message's mean.
    """
    starts, ends = offsets[:, 0], offsets[:, 1]
    real = ends > starts
    pooled = np.empty((len(spans), token_states.shape[1]), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        inside = real & (starts >= start) & (ends <= end)
        chosen = token_states[inside] if inside.any() else token_states[real]
        vector = chosen.mean(axis=0)
        pooled[row] = vector / max(float(np.linalg.norm(vector)), 1e-9)
    return pooled
