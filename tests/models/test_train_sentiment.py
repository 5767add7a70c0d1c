"""Fine-tuning the sentiment branch on cached states, and the baseline head's source weighting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.train_sentiment import (
    StateCache,
    branch_probabilities,
    fine_tune,
    source_weights,
    training_sets,
    validate,
)
from tests.models.test_datasets import write

CALM = ["Thank you, that was really helpful.", "Lovely, the parcel came early.", "Great service, cheers!"]
UPSET = ["This is a disgrace, I want my money back.", "Terrible. Nobody answers my emails.", "I am livid about this."]
NEUTRAL = ["My order number is 4471.", "I bought it on Tuesday.", "It is the blue jacket."]


def test_training_sets_leave_out_the_tweets_that_validation_grades(tmp_path: Path) -> None:
    write(
        tmp_path,
        "semeval2017-task4a/twitter-2013train-A.txt",
        "1\tnegative\t@Delta my bag is STILL missing http://t.co/x\n2\tpositive\tlanded early, lovely crew\n",
    )
    write(tmp_path, "tweeteval-sentiment/mapping.txt", "0\tnegative\n1\tneutral\n2\tpositive\n")
    write(tmp_path, "tweeteval-sentiment/val_text.txt", "@user my bag is still missing \n")
    write(tmp_path, "tweeteval-sentiment/val_labels.txt", "0\n")
    write(tmp_path, "tweeteval-emotion/mapping.txt", "0\tanger\n1\tjoy\n2\toptimism\n3\tsadness\n")
    write(tmp_path, "tweeteval-emotion/train_text.txt", "so cross\nyay\n")
    write(tmp_path, "tweeteval-emotion/train_labels.txt", "0\n1\n")
    for split in ("train", "dev", "test"):
        write(tmp_path, f"sst2/{split}.tsv", "label\tsentence\n1\tcharming .\n")
    sets = training_sets(tmp_path)
    assert sets["semeval2017"] == [("landed early, lovely crew", "positive")]  # the val tweet is held out
    assert sets["emotion_train"] == [("so cross", "negative"), ("yay", "positive")]


def test_source_weights_give_each_source_its_share() -> None:
    weights = source_weights({"big": 300, "small": 100}, {"big": 0.5, "small": 0.5})
    assert weights[:300].sum() == weights[300:].sum() == 200.0


@pytest.mark.slow
def test_fine_tuning_from_cached_states_learns_and_round_trips(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import torch

    from models.sentiment_branch import SentimentBranch

    torch.manual_seed(0)
    branch = SentimentBranch.from_encoder(encoder.transformer, 1, ("negative", "neutral", "positive"))
    cache = StateCache(encoder.transformer, encoder.tokenizer, branch.from_layer, tmp_path / "states")
    texts = UPSET + NEUTRAL + CALM
    states = cache.states(texts)
    assert [s.shape[1] for s in states] == [encoder.dim] * len(texts) and states[0].dtype == np.float16
    assert len(list((tmp_path / "states").glob("*.npz"))) == 1
    np.testing.assert_array_equal(cache.states(texts)[1], states[1])  # read back from disk, unchanged

    labels = np.repeat([0, 1, 2], 3)
    fine_tune(
        branch, {"toy": (states, labels)}, {"toy": 1.0}, steps=40, learning_rate=1e-3, rng=np.random.default_rng(0)
    )
    held_out = {"tweeteval_val": (states, ["negative"] * 3 + ["neutral"] * 3 + ["positive"] * 3),
                "sst2_dev": (states[:3] + states[6:], ["negative"] * 3 + ["positive"] * 3)}  # fmt: skip
    figures = validate(branch, held_out)
    assert figures == {"tweeteval_val_macro_recall": 1.0, "tweeteval_val_negative_auroc": 1.0, "sst2_dev_accuracy": 1.0}

    branch.save(tmp_path / "branch.safetensors")
    loaded = encoder.load_branch(tmp_path / "branch.safetensors")
    assert loaded.from_layer == encoder.transformer.config.num_hidden_layers - 1
    _, probabilities = encoder.encode_with_branch(texts, loaded)
    assert (probabilities.argmax(axis=1) == labels).all()  # float16 storage keeps what was learnt


@pytest.mark.slow
def test_polar_sources_do_not_teach_that_neutral_is_rare(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import torch

    from models.sentiment_branch import SentimentBranch

    def neutral_probability_after_training(polar: frozenset[str]) -> float:
        torch.manual_seed(0)
        branch = SentimentBranch.from_encoder(encoder.transformer, 1, ("negative", "neutral", "positive"))
        cache = StateCache(encoder.transformer, encoder.tokenizer, branch.from_layer, tmp_path)
        # A review-style source of only negatives and positives, like SST-2, and a 3-class source.
        polar_states = cache.states(UPSET + CALM)
        tweets = cache.states(UPSET[:1] + NEUTRAL + CALM[:1])
        sources = {"reviews": (polar_states, np.repeat([0, 2], 3)), "tweets": (tweets, np.array([0, 1, 1, 1, 2]))}
        fine_tune(branch, sources, {"reviews": 0.8, "tweets": 0.2}, 40, 1e-3, np.random.default_rng(0), polar=polar)
        return float(branch_probabilities(branch, polar_states)[:, 1].mean())

    # Masked, the reviews' rows say nothing about neutrality, so neutral is not pushed to zero on them.
    assert neutral_probability_after_training(frozenset({"reviews"})) > 2 * neutral_probability_after_training(
        frozenset()
    )
