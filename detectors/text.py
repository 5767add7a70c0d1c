"""Small text helpers every layer above shares: shortening a quote for people, the edit distance between two words,
and the words that negate what follows them."""

from __future__ import annotations

# Words that negate what comes right after them: "not fraud", "no lawyer", "never ordered".
NEGATIONS = frozenset({"not", "no", "never", "without", "nothing", "nor"})


def shorten(text: str, limit: int = 80, at_word: bool = False) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis (at a word boundary when `at_word`)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if at_word and " " in cut:
        cut = cut.rsplit(" ", 1)[0].rstrip(",;: ")
    return cut + "…"


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost one.

    With `limit`, a pair whose lengths already differ by more returns limit + 1 at once.
    """
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
