"""bot/tune.py: objectives, the coordinate-descent search on a fake replayer, the files, and one real tune."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from bot.settings import Settings, load_settings
from bot.tune import (
    MIN_CALM_CONVERSATIONS,
    CategoryFloors,
    Constraint,
    Figures,
    Knob,
    Objective,
    ObjectiveError,
    format_tradeoff,
    run_tune,
    search,
    search_space,
    split_holdout,
)
from detectors.thresholds import ExplicitRequestThresholds, Thresholds
from detectors.tuning.conversations import (
    SAMPLE_PATH,
    Expected,
    LabelledConversation,
    ScriptTurn,
    write_conversations,
)
from detectors.tuning.metrics import Outcome

# --- A fake replayer: which conversations escalate is a known function of the thresholds -------------------

# The field of each detector the fake listens to.
FIELD = {"explicit_request": "threshold", "sentiment": "message", "pattern_similarity": "threshold"}

# The fake replayers below were written for these starting thresholds; pinning them keeps the tests
# independent of the shipped defaults, which are chosen by measurement and may move.
START = Thresholds(explicit_request=ExplicitRequestThresholds(threshold=0.9, with_phrase=0.1))
START_SETTINGS = Settings(detectors=START)


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
    positives = [(conversation(f"pos-{i}", True), "explicit_request", cut)
                 for i, cut in enumerate((0.95, 0.85, 0.7, 0.6, 0.45))]
    negatives = [(conversation(f"neg-{i}", False), "explicit_request", cut)
                 for i, cut in enumerate((0.5, 0.3, 0.2))]
    return positives + negatives


def figures(precision: float | None, recall: float | None, f1: float | None = None, escalated: int = 10,
            on_time: float | None = 0.5, trigger: float | None = 1.0) -> Figures:
    return Figures(precision, recall, f1, on_time, trigger, escalated / 100, escalated=escalated)


# --- Objective ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f1", Objective("f1")),
        ("recall@precision>=0.9", Objective("recall", Constraint("precision", ">=", 0.9))),
        (" precision @ recall >= .95 ", Objective("precision", Constraint("recall", ">=", 0.95))),
        ("on_time@precision>=0.9", Objective("on_time", Constraint("precision", ">=", 0.9))),
        ("recall@escalation_rate<=0.4", Objective("recall", Constraint("escalation_rate", "<=", 0.4))),
    ],
)
def test_objective_parses_the_accepted_forms(text: str, expected: Objective) -> None:
    assert Objective.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "accuracy", "escalation_rate", "recall@precision>0.9", "recall@precision>=1.5", "recall@speed>=0.5",
     "recall@precision", "f1 recall"],
)
def test_objective_rejects_other_forms_and_lists_the_accepted_ones(text: str) -> None:
    with pytest.raises(ObjectiveError, match="accepted forms|between 0 and 1") as caught:
        Objective.parse(text)
    assert isinstance(caught.value, ValueError)


def test_objective_round_trips_through_its_text() -> None:
    for text in ("f1", "recall@precision>=0.9", "precision@escalation_rate<=0.3"):
        assert str(Objective.parse(text)) == text


def test_a_feasible_candidate_beats_a_better_infeasible_one() -> None:
    objective = Objective.parse("recall@precision>=0.9")
    meets = figures(precision=0.95, recall=0.6)
    misses = figures(precision=0.85, recall=0.9)
    assert objective.feasible(meets) and not objective.feasible(misses)
    assert objective.rank(meets) > objective.rank(misses)


def test_among_infeasible_candidates_the_nearest_to_the_bound_wins() -> None:
    objective = Objective.parse("recall@precision>=0.9")
    near, far = figures(precision=0.88, recall=0.2), figures(precision=0.5, recall=1.0)
    assert objective.rank(near) > objective.rank(far)


def test_an_undefined_precision_does_not_meet_a_precision_bound() -> None:
    nothing_escalated = figures(precision=None, recall=0.0, f1=0.0, escalated=0)
    assert not Objective.parse("recall@precision>=0.9").feasible(nothing_escalated)


def test_ties_go_to_f1_on_time_trigger_accuracy_fewer_escalations_then_closeness() -> None:
    objective = Objective.parse("recall@precision>=0.9")
    base = figures(precision=0.92, recall=0.8, f1=0.85, escalated=20)
    assert objective.rank(figures(0.95, 0.8, f1=0.87, escalated=20)) > objective.rank(base)
    assert objective.rank(figures(0.92, 0.8, f1=0.85, escalated=20, on_time=0.7)) > objective.rank(base)
    assert objective.rank(figures(0.92, 0.8, f1=0.85, escalated=20, trigger=0.9)) < objective.rank(base)
    assert objective.rank(figures(0.92, 0.8, f1=0.85, escalated=18)) > objective.rank(base)
    assert objective.rank(base, distance=0.1) > objective.rank(base, distance=0.3)


# --- The search space -----------------------------------------------------------------------------------------


def test_the_search_space_stays_inside_the_schema_and_starts_on_its_own_grid() -> None:
    current = Thresholds(explicit_request={"threshold": 0.913})
    knobs = {knob.key: knob for knob in search_space(current)}
    assert 0.913 in knobs["explicit_request.threshold"].values  # the current value, though off the grid
    assert knobs["intent_confidence.consecutive"].values[0] >= 1
    for knob in knobs.values():
        if not knob.is_switch:
            counts = knob.field in ("consecutive", "min_turns", "signs")
            assert all(0 <= value <= 1 or counts for value in knob.values), knob.key
    assert {"sentiment.enabled", "pattern_similarity.enabled"} <= set(knobs)


def test_a_knob_refuses_values_the_schema_refuses() -> None:
    knob = Knob("pattern_similarity", "window", (1, 3))
    assert knob.set(Thresholds(), 1) is None  # min_turns 2 > window 1: the schema rejects it
    assert knob.set(Thresholds(), 3) == Thresholds()


# --- Coordinate descent on the fake ----------------------------------------------------------------------------


def test_search_finds_the_best_f1_and_changes_nothing_else() -> None:
    replayer = FakeReplayer(explicit_cases())
    result = search(replayer, START, Objective.parse("f1"))
    best = result.best.thresholds
    # The F1 plateau is [0.3, 0.45); the end nearest the current 0.9 is the last grid value below 0.45.
    assert best.explicit_request.threshold == 0.425
    assert result.best.figures.f1 == pytest.approx(10 / 11)
    assert best.model_dump(exclude={"explicit_request"}) == START.model_dump(exclude={"explicit_request"})
    assert result.replays == replayer.replays  # every distinct thresholds replayed once


def test_search_respects_the_precision_bound() -> None:
    result = search(FakeReplayer(explicit_cases()), START, Objective.parse("recall@precision>=0.9"))
    assert result.best.figures.precision == 1.0
    assert result.best.figures.recall == pytest.approx(0.8)
    assert result.best.thresholds.explicit_request.threshold == 0.575  # top of the [0.5, 0.6) plateau
    assert result.current.figures.recall == pytest.approx(0.2)  # from 0.9 only the 0.95 cut fires


def test_search_tunes_two_detectors_together() -> None:
    sentiment = [(conversation("angry-1", True, "sentiment"), "sentiment", 0.8),
                 (conversation("angry-2", True, "sentiment"), "sentiment", 0.75),
                 (conversation("sad-1", False), "sentiment", 0.7)]
    result = search(FakeReplayer(explicit_cases() + sentiment), START, Objective.parse("f1"))
    # Sentiment: anything in [0.7, 0.75) catches both angry ones and not the sad one; 0.725 is nearest to 0.9.
    assert result.best.thresholds.sentiment.message == 0.725
    assert result.best.thresholds.explicit_request.threshold == 0.425
    assert result.best.figures.f1 == pytest.approx(14 / 15)  # TP 7, FP 1, FN 0


def test_sweeps_cover_every_value_of_every_knob_around_the_best() -> None:
    result = search(FakeReplayer(explicit_cases()), START, Objective.parse("f1"))
    for knob in result.knobs:
        assert [point.value for point in result.sweeps[knob.key]] == list(knob.values)
    best_value = result.best.thresholds.explicit_request.threshold
    at_best = [p for p in result.sweeps["explicit_request.threshold"] if p.value == best_value]
    assert at_best[0].figures == result.best.figures


def noisy_pattern_cases() -> list[tuple[LabelledConversation, str, float]]:
    # pattern_similarity fires on one negative at any threshold of the grid, and catches nothing.
    return explicit_cases() + [(conversation("noise", False), "pattern_similarity", 2.0)]


def test_a_detector_is_switched_off_when_that_improves_the_objective() -> None:
    result = search(FakeReplayer(noisy_pattern_cases()), START, Objective.parse("f1"))
    assert result.best.thresholds.pattern_similarity.enabled is False


def test_a_detector_stays_on_when_switching_it_off_only_wins_a_tie_breaker() -> None:
    # For recall the noisy detector costs nothing; switching it off would only raise F1 (a tie-breaker).
    result = search(FakeReplayer(noisy_pattern_cases()), START, Objective.parse("recall"))
    assert result.best.thresholds.pattern_similarity.enabled is True
    assert result.best.figures.recall == 1.0


# --- run_tune and its files ----------------------------------------------------------------------------------

SCRIPT_ID = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, FakeReplayer]:
    # A negative that escalates at every threshold stays wrong, so it must show (escaped) in the report.
    cases = explicit_cases() + [(conversation(SCRIPT_ID, False), "explicit_request", 2.0)]
    replayer = FakeReplayer(cases)
    tmp_path = tmp_path_factory.mktemp("tune")
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, replayer.conversations)
    out = tmp_path / "out"
    result = run_tune(path, START_SETTINGS, "recall@precision>=0.8", out, progress=False, replayer=replayer, holdout=0)
    return result, out, replayer


def test_run_tune_writes_every_file(tuned) -> None:
    result, out, _ = tuned
    paths = result["paths"]
    assert Path(paths["precision_recall"]) == out / "precision_recall.png"
    for png in [paths["precision_recall"], *paths["thresholds"].values()]:
        assert Path(png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "explicit_request.threshold" in paths["thresholds"]
    assert json.loads((out / "tune.json").read_text(encoding="utf-8")) == json.loads(json.dumps(result))


def test_run_tune_reports_current_best_and_changes(tuned) -> None:
    result, _, _ = tuned
    assert result["objective"] == "recall@precision>=0.8"
    assert result["best"]["feasible"] and result["best"]["precision"] >= 0.8
    assert result["best"]["objective"] >= result["current"]["objective"]
    assert result["changed"] == {
        "explicit_request.threshold": {"old": 0.9, "new": result["best_thresholds"]["explicit_request"]["threshold"]}
    }
    assert SCRIPT_ID in [wrong["id"] for wrong in result["wrong"]]


def test_the_report_page_shows_the_figures_and_escapes_text(tuned) -> None:
    result, out, _ = tuned
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "src='precision_recall.png'" in page
    assert "src='thresholds_explicit_request_threshold.png'" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "0.9 → " in page  # old -> new of the changed threshold
    assert "recall@precision&gt;=0.8" in page


def test_the_suggested_toml_loads_as_a_config_alone_and_merged(tuned, tmp_path: Path) -> None:
    result, out, _ = tuned
    snippet = (out / "suggested.toml").read_text(encoding="utf-8")
    assert set(tomllib.loads(snippet)["detectors"]) == set(Thresholds.model_fields)
    best = Thresholds.model_validate(result["best_thresholds"])
    assert load_settings(out / "suggested.toml").detectors == best
    merged = tmp_path / "escalator.toml"
    merged.write_text('[server]\nport = 9001\n\n[bot]\nmatch_threshold = 0.4\n\n' + snippet, encoding="utf-8")
    settings = load_settings(merged)
    assert settings.detectors == best and settings.server.port == 9001
    assert best != START


def test_format_tradeoff_shows_current_best_and_the_change(tuned) -> None:
    result, _, _ = tuned
    text = format_tradeoff(result)
    lines = text.splitlines()
    assert any(line.startswith("current") for line in lines)
    assert any(line.startswith("best") for line in lines)
    assert "explicit_request.threshold 0.9 -> " in text
    assert "recall@precision>=0.8" in text


def test_run_tune_checks_the_objective_before_any_work(tmp_path: Path) -> None:
    replayer = FakeReplayer(explicit_cases())
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, replayer.conversations)
    with pytest.raises(ValueError, match="accepted forms"):
        run_tune(path, Settings(), "precision>=0.9", tmp_path / "out", replayer=replayer)
    assert replayer.replays == 0 and not (tmp_path / "out").exists()


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path, capsys) -> None:
    replayer = FakeReplayer(explicit_cases())
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, replayer.conversations)
    run_tune(path, Settings(), "f1", tmp_path / "out", progress=True, replayer=replayer)
    assert capsys.readouterr().err == ""


# --- Per-category floors, the held-out set and the warnings ----------------------------------------------------


def test_floors_parse_and_name_the_failing_categories() -> None:
    floors = CategoryFloors.parse("caught>=0.85, false<=0.1")
    assert (floors.caught, floors.false) == (0.85, 0.1) and str(floors) == "caught>=0.85,false<=0.1"
    figures_ = Figures(1.0, 0.5, 0.6, 0.5, None, 0.3, categories=(("indirect", 0.5, None), ("routine", None, 0.2),
                                                                 ("direct", 1.0, None), ("thanks", None, 0.0)))
    assert floors.failing(figures_) == ("indirect", "routine")
    assert floors.shortfall(figures_) == pytest.approx(0.35 + 0.1)
    with pytest.raises(ObjectiveError, match="caught>=0.85"):
        CategoryFloors.parse("caught>0.85")


def test_with_floors_fewer_failing_categories_beat_a_better_f1() -> None:
    objective = Objective.parse("f1").with_floors(CategoryFloors(caught=0.85))
    balanced = Figures(0.8, 0.8, 0.8, 0.8, None, 0.5, categories=(("a", 0.9, None), ("b", 0.9, None)))
    lopsided = Figures(0.9, 0.9, 0.9, 0.9, None, 0.5, categories=(("a", 1.0, None), ("b", 0.5, None)))
    assert objective.rank(balanced) > objective.rank(lopsided)
    assert objective.feasible(balanced) and not objective.feasible(lopsided)


def test_the_held_out_share_is_drawn_within_each_category_and_the_same_every_time() -> None:
    items = [conversation(f"{kind}-{i}", kind == "up", category=kind) for kind in ("up", "calm") for i in range(10)]
    tuning, held = split_holdout(items, 0.3)
    assert len(held) == 6 and sum(c.category == "up" for c in held) == 3
    assert {c.id for c in tuning} | {c.id for c in held} == {c.id for c in items}
    assert split_holdout(items, 0.3) == (tuning, held)
    assert split_holdout(items, 0.0) == (items, [])
    with pytest.raises(ValueError, match="below 1"):
        split_holdout(items, 1.0)


def test_run_tune_reports_the_figures_on_a_held_out_file(tmp_path: Path) -> None:
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, [case[0] for case in explicit_cases()])
    held_path = tmp_path / "held.jsonl"
    held_cases = [(conversation("held-pos", True), "explicit_request", 0.7)]
    write_conversations(held_path, [case[0] for case in held_cases])
    replayer = FakeReplayer(explicit_cases() + held_cases)
    result = run_tune(path, START_SETTINGS, "f1", tmp_path / "out", progress=False, replayer=replayer, holdout=held_path)
    held = result["held_out"]
    assert held["conversations"] == 1 and held["source"] == str(held_path)
    assert held["current"]["recall"] == 0.0 and held["best"]["recall"] == 1.0  # 0.9 -> below 0.7 catches held-pos
    assert result["conversations"] == len(explicit_cases())  # the search saw only the file


def test_run_tune_warns_about_a_change_resting_on_one_conversation_and_about_few_calm_chats(tmp_path: Path) -> None:
    # At 0.9 only pos-a escalates; anything below 0.85 also catches pos-b and nothing else: one conversation's worth.
    cases = [(conversation("pos-a", True), "explicit_request", 0.95), (conversation("pos-b", True), "explicit_request", 0.85),
             (conversation("neg-a", False), "explicit_request", 0.3)]
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, [case[0] for case in cases])
    result = run_tune(path, START_SETTINGS, "f1", tmp_path / "out", progress=False, replayer=FakeReplayer(cases),
                      holdout=0)
    warnings = "\n".join(result["warnings"])
    assert f"Only 1 of the 3 conversations should not escalate: with fewer than {MIN_CALM_CONVERSATIONS}" in warnings
    assert "explicit_request.threshold 0.9 -> " in warnings and "rests on 1 conversation (pos-b)" in warnings
    assert "WARNING: Only 1" in (tmp_path / "out" / "suggested.toml").read_text(encoding="utf-8")
    assert "WARNING: explicit_request.threshold" in format_tradeoff(result)


# --- The real sample through the real pipeline ---------------------------------------------------------------


@pytest.mark.slow
def test_tuning_the_shipped_sample_never_makes_the_objective_worse(tmp_path: Path) -> None:
    # No replayer given: run_tune builds the real offline pipeline and analyses the sample itself.
    settings = Settings(models={"cache_dir": str(tmp_path / "cache")})
    result = run_tune(SAMPLE_PATH, settings, "recall@precision>=0.9", tmp_path / "out", progress=False, holdout=0)
    assert result["conversations"] == 108
    assert result["best"]["feasible"]
    assert result["best"]["objective"] >= result["current"]["objective"]
    assert load_settings(Path(result["paths"]["suggested"])).detectors.model_dump() == result["best_thresholds"]


def test_frozen_sections_and_fields_are_left_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "labelled.jsonl"
    write_conversations(path, [case[0] for case in explicit_cases()])
    result = run_tune(path, START_SETTINGS, "f1", tmp_path / "out", progress=False,
                      replayer=FakeReplayer(explicit_cases()), holdout=0, freeze=["explicit_request"])
    assert result["changed"] == {}
    assert "explicit_request.threshold" not in result["sweeps"]
