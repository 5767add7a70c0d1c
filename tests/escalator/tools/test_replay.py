import json

import pytest

from detectors.thresholds import Thresholds
from detectors.tuning.conversations import read_conversations
from detectors.tuning.metrics import compute
from escalator.analysis import build_analysis
from escalator.settings import Settings
from escalator.tools.replay import Replayer

pytestmark = pytest.mark.slow

LINES = [
    {
        "id": "asks",
        "turns": [
            {"role": "customer", "text": "What sizes does the Ridgeline Shell Jacket come in?"},
            {"role": "customer", "text": "I want to talk to a human agent please"},
        ],
        "expected": {"escalate": True, "turn": 2, "trigger": "explicit_request"},
    },
    {
        "id": "happy",
        "turns": [
            {"role": "customer", "text": "How long does standard shipping take?"},
            {"role": "bot", "text": "Standard shipping takes 3-5 business days."},
            {"role": "customer", "text": "great, thanks!"},
        ],
        "expected": {"escalate": False, "turn": None, "trigger": None},
    },
]


@pytest.fixture(scope="module")
def replayer(encoder, tmp_path_factory):
    path = tmp_path_factory.mktemp("replay") / "conversations.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in LINES) + "\n", encoding="utf-8")
    settings = Settings(models={"cache_dir": str(tmp_path_factory.mktemp("cache"))})
    return Replayer(build_analysis(settings, encoder=encoder), read_conversations(path))


def test_replay_runs_the_real_pipeline_turn_by_turn(replayer):
    outcomes = {o.id: o for o in replayer.replay(Thresholds())}
    assert outcomes["asks"].escalated and outcomes["asks"].turn == 2 and outcomes["asks"].trigger == "explicit_request"
    assert not outcomes["happy"].escalated
    assert len(outcomes["happy"].scores) == 2  # one decision per customer turn
    report = compute(outcomes.values())
    assert (report.precision, report.recall) == (1.0, 1.0)


def test_thresholds_change_the_replay_without_re_encoding(replayer):
    analysed = dict(replayer.analyses)
    off = Thresholds().model_copy(
        update={"explicit_request": Thresholds().explicit_request.model_copy(update={"enabled": False})}
    )
    outcomes = {o.id: o for o in replayer.replay(off)}
    assert outcomes["asks"].trigger != "explicit_request"
    assert replayer.analyses == analysed


# One conversation per new kind of handoff, through the real models: these pin the wiring, not the quality figures
# (those are measured by `escalator evaluate` on the labelled corpus).
KINDS = [
    {
        "id": "injury",
        "category": "high-stakes",
        "turns": [
            {"role": "customer", "text": "The Emberline stove flared up when I lit it and burned my son's hand badly."}
        ],
        "expected": {"escalate": True, "turn": 1, "trigger": "pattern_similarity"},
    },
    {
        "id": "spanish",
        "category": "other-language",
        "turns": [
            {"role": "customer", "text": "Hola, ¿dónde está mi pedido? Lo compré la semana pasada."},
            {"role": "customer", "text": "Todavía no ha llegado y necesito la tienda para el viernes."},
        ],
        "expected": {"escalate": True, "turn": 2, "trigger": "language"},
    },
    {
        "id": "problem-report",
        "category": "problem-report",
        "turns": [{"role": "customer", "text": "my promo code SPRING20 isn't working at checkout"}],
        "expected": {"escalate": False},
    },
]


def test_the_new_kinds_of_handoff_come_from_the_real_pipeline(encoder, tmp_path):
    path = tmp_path / "kinds.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in KINDS) + "\n", encoding="utf-8")
    settings = Settings(models={"cache_dir": str(tmp_path / "cache")})
    outcomes = {
        o.id: o
        for o in Replayer(build_analysis(settings, encoder=encoder), read_conversations(path)).replay(
            settings.detectors
        )
    }
    assert (outcomes["injury"].turn, outcomes["injury"].trigger) == (1, "pattern_similarity")
    assert (outcomes["spanish"].turn, outcomes["spanish"].trigger) == (2, "language")
    assert not outcomes["problem-report"].escalated
    assert outcomes["injury"].category == "high-stakes"
