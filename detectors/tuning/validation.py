"""What a suggestion is worth: conversations held out of the search, and warnings a user must read before adopting it."""

from __future__ import annotations

import random
from collections.abc import Sequence

from detectors.thresholds import Thresholds
from detectors.tuning.conversations import LabelledConversation
from detectors.tuning.metrics import compute
from detectors.tuning.search import ReplaysConversations, SearchResult, describe_value

HOLDOUT_SHARE = 0.3  # of the conversations kept out of the search, to show what the fit is worth elsewhere
HOLDOUT_SEED = 20261203
# Fewer conversations that should not escalate than this, and the search lowers thresholds it cannot see the cost
# of. Measured (docs/tuning.md): thresholds tuned on the store's escalating train conversations plus N of its calm
# ones escalated this share of the dev split's calm conversations: N=10 55%, 30 42-55%, 60 22-39%, 100 15-21%, 200 10%.
MIN_CALM_CONVERSATIONS = 200
# A change whose effect on the search set comes down to this many conversations or fewer is flagged as fragile.
FRAGILE_CONVERSATIONS = 2


def split_holdout(
    conversations: Sequence[LabelledConversation], share: float, seed: int = HOLDOUT_SEED
) -> tuple[list[LabelledConversation], list[LabelledConversation]]:
    """(tuning, held out): `share` of each category (or, uncategorised, of each label) held out, by a fixed seed."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"the held-out share must be at least 0 and below 1, got {share}")
    if share == 0.0:
        return list(conversations), []
    groups: dict[str, list[LabelledConversation]] = {}
    for conversation in conversations:
        key = conversation.category or ("escalate" if conversation.expected.escalate else "no escalation")
        groups.setdefault(key, []).append(conversation)
    rng = random.Random(seed)
    held_ids: set[str] = set()
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda c: c.id)
        rng.shuffle(members)
        held_ids |= {c.id for c in members[: int(round(share * len(members)))]}
    return [c for c in conversations if c.id not in held_ids], [c for c in conversations if c.id in held_ids]


def warnings_for(
    result: SearchResult, replayer: ReplaysConversations, conversations: Sequence[LabelledConversation], tolerance: int
) -> list[str]:
    """What the user must know before adopting the suggestion: too few calm conversations to measure false
    escalations, and changes whose whole effect comes down to one or two conversations."""
    found = []
    calm = sum(not c.expected.escalate for c in conversations)
    if calm < MIN_CALM_CONVERSATIONS:
        found.append(
            f"Only {calm} of the {len(conversations)} conversations should not escalate: with fewer than "
            f"{MIN_CALM_CONVERSATIONS}, the search lowers thresholds it cannot see the cost of (tuned with 100, the "
            "store's thresholds escalated 15-21% of calm conversations elsewhere; with 200, 10%). Add ordinary "
            "conversations (routine questions, problem reports, thanks) before adopting these thresholds."
        )
    best = result.best.thresholds
    verdicts = _verdicts(replayer, best, tolerance)
    for knob in result.knobs:
        old = knob.get(result.current.thresholds)
        if knob.get(best) == old:
            continue
        reverted = knob.set(best, old)
        if reverted is None:
            continue
        differing = [
            cid for cid, verdict in _verdicts(replayer, reverted, tolerance).items() if verdicts[cid] != verdict
        ]
        if len(differing) <= FRAGILE_CONVERSATIONS:
            found.append(
                f"{knob.key} {describe_value(old)} -> {describe_value(knob.get(best))} rests on {len(differing)} conversation"
                f"{'' if len(differing) == 1 else 's'} ({', '.join(differing) or 'none'}): keep the old value "
                "unless you have more conversations like them."
            )
    return found


def _verdicts(
    replayer: ReplaysConversations, thresholds: Thresholds, tolerance: int
) -> dict[str, tuple[str, str | None]]:
    return {r.outcome.id: (r.verdict, r.timing) for r in compute(replayer.replay(thresholds), tolerance).results}
