"""A fake replayer for the tuning tests: which conversations escalate is a known function of the thresholds."""

from __future__ import annotations

from detectors.thresholds import ExplicitRequestThresholds, Thresholds
from detectors.tuning.conversations import Expected, LabelledConversation, ScriptTurn
from detectors.tuning.metrics import Outcome
from detectors.tuning.objective import Figures

# The field of each detector the fake listens to.
FIELD = {"explicit_request": "threshold", "sentiment": "message", "pattern_similarity": "threshold"}

# The fake replayers below were written for these starting thresholds; pinning them keeps the tests
# independent of the shipped defaults, which are chosen by measurement and may move.
START = Thresholds(explicit_request=ExplicitRequestThresholds(threshold=0.9, with_phrase=0.1))


def conversation(
    id_: str, escalate: bool, trigger: str = "explicit_request", category: str | None = None
) -> LabelledConversation:
    return LabelledConversation(
        id=id_,
        turns=(ScriptTurn("customer", f"message of {id_}"),),
        expected=Expected(True, 1, trigger) if escalate else Expected(False),
        category=category,
    )


class FakeReplayer:
    """Conversation i escalates, by its detector, iff that detector is on and its threshold is below cut i."""

    def __init__(self, cases: list[tuple[LabelledConversation, str, float]]) -> None:
        self.cases = cases
        self.replays = 0

    @property
    def conversations(self) -> list[LabelledConversation]:
        return [labelled for labelled, _, _ in self.cases]

    def subset(self, conversations: list[LabelledConversation]) -> FakeReplayer:
        ids = {c.id for c in conversations}
        return FakeReplayer([case for case in self.cases if case[0].id in ids])

    def replay(self, thresholds: Thresholds) -> list[Outcome]:
        self.replays += 1
        outcomes = []
        for labelled, detector, cut in self.cases:
            section = getattr(thresholds, detector)
            fires = section.enabled and getattr(section, FIELD[detector]) < cut
            outcomes.append(
                Outcome(labelled.id, labelled.expected, fires, 1 if fires else None, detector if fires else None)
            )
        return outcomes


def explicit_cases() -> list[tuple[LabelledConversation, str, float]]:
    # Positives escalate below 0.95, 0.85, 0.7, 0.6, 0.45; negatives below 0.5, 0.3, 0.2.
    #   threshold in [0.5, 0.6):  TP 4, FP 0 -> precision 1, recall 0.8, F1 0.889
    #   threshold in [0.3, 0.45): TP 5, FP 1 -> precision 0.833, recall 1, F1 0.909 (the best F1)
    positives = [
        (conversation(f"pos-{i}", True), "explicit_request", cut) for i, cut in enumerate((0.95, 0.85, 0.7, 0.6, 0.45))
    ]
    negatives = [(conversation(f"neg-{i}", False), "explicit_request", cut) for i, cut in enumerate((0.5, 0.3, 0.2))]
    return positives + negatives


def figures(
    precision: float | None,
    recall: float | None,
    f1: float | None = None,
    escalated: int = 10,
    on_time: float | None = 0.5,
    trigger: float | None = 1.0,
) -> Figures:
    return Figures(precision, recall, f1, on_time, trigger, escalated / 100, escalated=escalated)
