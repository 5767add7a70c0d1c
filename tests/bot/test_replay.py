import json

import pytest

from bot.offline import build_offline_pipeline
from bot.replay import Replayer
from bot.settings import Settings
from detectors.thresholds import Thresholds
from detectors.tuning.conversations import read_conversations
from detectors.tuning.metrics import compute

pytestmark = pytest.mark.slow

LINES = [
    {"id": "asks", "turns": [{"role": "customer", "text": "What sizes does the Ridgeline Shell Jacket come in?"},
                             {"role": "customer", "text": "I want to talk to a human agent please"}],
     "expected": {"escalate": True, "turn": 2, "trigger": "explicit_request"}},
    {"id": "happy", "turns": [{"role": "customer", "text": "How long does standard shipping take?"},
                              {"role": "bot", "text": "Standard shipping takes 3-5 business days."},
                              {"role": "customer", "text": "great, thanks!"}],
     "expected": {"escalate": False, "turn": None, "trigger": None}},
]


@pytest.fixture(scope="module")
def replayer(encoder, tmp_path_factory):
    path = tmp_path_factory.mktemp("replay") / "conversations.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in LINES) + "\n", encoding="utf-8")
    settings = Settings(models={"cache_dir": str(tmp_path_factory.mktemp("cache"))})
    return Replayer(build_offline_pipeline(settings, encoder), read_conversations(path))


def test_replay_runs_the_real_pipeline_turn_by_turn(replayer):
    outcomes = {o.id: o for o in replayer.replay(Thresholds())}
    assert outcomes["asks"].escalated and outcomes["asks"].turn == 2 and outcomes["asks"].trigger == "explicit_request"
    assert not outcomes["happy"].escalated
    assert len(outcomes["happy"].scores) == 2  # one decision per customer turn
    report = compute(outcomes.values())
    assert (report.precision, report.recall) == (1.0, 1.0)


def test_thresholds_change_the_replay_without_re_encoding(replayer):
    analysed = dict(replayer.analyses)
    off = Thresholds().model_copy(update={"explicit_request": Thresholds().explicit_request.model_copy(update={"enabled": False})})
    outcomes = {o.id: o for o in replayer.replay(off)}
    assert outcomes["asks"].trigger != "explicit_request"
    assert replayer.analyses == analysed


def test_default_config_meets_the_targets_on_the_shipped_sample(encoder, tmp_path):
    """The acceptance figure of the tuning workflow: precision and recall of escalating, both >= 0.9."""
    from detectors.tuning.conversations import SAMPLE_PATH

    settings = Settings(models={"cache_dir": str(tmp_path)})
    replayer = Replayer(build_offline_pipeline(settings, encoder), read_conversations(SAMPLE_PATH))
    report = compute(replayer.replay(settings.detectors))
    print(f"sample: precision {report.precision:.3f} recall {report.recall:.3f} f1 {report.f1:.3f}")
    assert report.precision >= 0.9 and report.recall >= 0.9
