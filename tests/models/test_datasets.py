"""The data set readers, on tiny files written in the real files' formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models import datasets


def write(root: Path, relative: str, content: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def test_clinc150_keeps_every_split_and_the_oos_label(tmp_path: Path) -> None:
    raw = {
        "train": [["what is my balance", "balance"], ["book a flight", "book_flight"]],
        "val": [["balance please", "balance"]],
        "oos_test": [["how tall is everest", "oos"]],
    }
    write(tmp_path, "clinc150/data_full.json", json.dumps(raw))
    splits = datasets.load_clinc150(tmp_path)
    assert splits["train"] == [("what is my balance", "balance"), ("book a flight", "book_flight")]
    assert splits["oos_test"] == [("how tall is everest", "oos")]
    assert set(splits) == {"train", "val", "oos_test"}


def test_banking77_reads_quoted_csv_rows(tmp_path: Path) -> None:
    write(
        tmp_path,
        "banking77/train.csv",
        'text,category\nI am still waiting on my card?,card_arrival\n"Hi, my card, it broke",card_not_working\n',
    )
    write(tmp_path, "banking77/test.csv", "text,category\nWhere is my card?,card_arrival\n")
    splits = datasets.load_banking77(tmp_path)
    assert splits["train"][1] == ("Hi, my card, it broke", "card_not_working")
    assert splits["test"] == [("Where is my card?", "card_arrival")]


def test_bitext_reads_utterance_and_intent_from_each_split(tmp_path: Path) -> None:
    header = "utterance,intent,entity_type,entity_value,start_offset,end_offset,category,tags\n"
    for name, row in [
        ("Training", "i want to talk to an agent,contact_human_agent,,,,,CONTACT,BL\n"),
        (
            "Validation",
            "how can I cancel purchase 113542617735902?,cancel_order,order_id,113542617735902,26,41,ORDER,BIL\n",
        ),
        ("Testing", "contact customer service,contact_customer_service,,,,,CONTACT,B\n"),
    ]:
        write(tmp_path, f"bitext-customer-support/Bitext_Sample_Customer_Service_{name}_Dataset.csv", header + row)
    splits = datasets.load_bitext(tmp_path)
    assert splits["train"] == [("i want to talk to an agent", "contact_human_agent")]
    assert splits["dev"] == [("how can I cancel purchase 113542617735902?", "cancel_order")]
    assert splits["test"][0][1] == "contact_customer_service"


def test_sst2_maps_labels_and_skips_both_header_styles(tmp_path: Path) -> None:
    write(tmp_path, "sst2/train.tsv", 'label\tsentence\n0\thide new secretions \n1\ta "gorgeous" film\n')
    write(tmp_path, "sst2/dev.tsv", "label\tcontent\n1\tcharming .\n")
    write(tmp_path, "sst2/test.tsv", "label\tcontent\n0\tno movement , no yuks .\n")
    splits = datasets.load_sst2(tmp_path)
    assert splits["train"] == [("hide new secretions ", "negative"), ('a "gorgeous" film', "positive")]
    assert splits["dev"] == [("charming .", "positive")]
    assert splits["test"] == [("no movement , no yuks .", "negative")]


def test_tweeteval_pairs_lines_names_labels_and_decodes_literal_escapes(tmp_path: Path) -> None:
    write(tmp_path, "tweeteval-sentiment/mapping.txt", "0\tnegative\n1\tneutral\n2\tpositive\n")
    write(tmp_path, "tweeteval-sentiment/test_text.txt", "awful day \nDon\\u2019t care\nlove it\n")
    write(tmp_path, "tweeteval-sentiment/test_labels.txt", "0\n1\n2\n")
    assert datasets.load_tweeteval_sentiment(tmp_path)["test"] == [
        ("awful day", "negative"),
        ("Don\u2019t care", "neutral"),
        ("love it", "positive"),
    ]


def test_tweeteval_refuses_mismatched_text_and_label_files(tmp_path: Path) -> None:
    write(tmp_path, "tweeteval-emotion/mapping.txt", "0\tanger\n1\tjoy\n2\toptimism\n3\tsadness\n")
    write(tmp_path, "tweeteval-emotion/train_text.txt", "one\ntwo\n")
    write(tmp_path, "tweeteval-emotion/train_labels.txt", "0\n")
    with pytest.raises(datasets.DatasetFormatError, match="2 texts but 1 labels"):
        datasets.load_tweeteval_emotion(tmp_path)


def test_semeval_deduplicates_by_id_decodes_escapes_and_joins_broken_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        "semeval2017-task4a/twitter-2013train-A.txt",
        "111\tpositive\tGas hit $3.39\\u002c great!\n222\tnegative\tTheo is still bad\n",
    )
    write(
        tmp_path,
        "semeval2017-task4a/twitter-2016test-A.txt",
        '111\tnegative\tduplicate of 111 with another label\t\n333\tneutral\t" Kanye: I will run\n"\t\n',
    )
    write(tmp_path, "semeval2017-task4a/livejournal-2014test-A.tsv", "null\tLJ1\tneutral\tWhat is THud ?\n")
    examples = datasets.load_semeval2017(tmp_path)
    assert examples == [
        ("Gas hit $3.39, great!", "positive"),
        ("Theo is still bad", "negative"),
        ("Kanye: I will run", "neutral"),
        ("What is THud ?", "neutral"),
    ]
    assert len(datasets.load_semeval2017(tmp_path, include_non_twitter=False)) == 3


def test_semeval_without_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "semeval2017-task4a").mkdir()
    with pytest.raises(datasets.DatasetFormatError, match="no SemEval-2017"):
        datasets.load_semeval2017(tmp_path)


def test_twitter_airline_reads_text_and_sentiment(tmp_path: Path) -> None:
    header = "tweet_id,airline_sentiment,airline_sentiment_confidence,negativereason,negativereason_confidence,airline,airline_sentiment_gold,name,negativereason_gold,retweet_count,text,tweet_coord,tweet_created,tweet_location,user_timezone\n"
    row = '5.70306E+17,negative,1,Late Flight,1,United,,someone,,0,"@united late again, thanks",,24-02-2015 11.35,,\n'
    write(tmp_path, "twitter-airline-sentiment/Tweets.csv", header + row)
    assert datasets.load_twitter_airline(tmp_path) == [("@united late again, thanks", "negative")]


def test_missing_csv_column_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "banking77/train.csv", "sentence,label\nhello,greeting\n")
    write(tmp_path, "banking77/test.csv", "text,category\nhi,greeting\n")
    with pytest.raises(datasets.DatasetFormatError, match="train.csv: missing columns"):
        datasets.load_banking77(tmp_path)


def test_labelled_tsv_skips_comments_and_rejects_lines_without_a_tab(tmp_path: Path) -> None:
    good = tmp_path / "good.tsv"
    good.write_text("# comment\n1\tget me a human\n\n0\ttalk to you later\n", encoding="utf-8")
    assert datasets.read_labelled_tsv(good) == [("get me a human", "1"), ("talk to you later", "0")]
    bad = tmp_path / "bad.tsv"
    bad.write_text("1 get me a human\n", encoding="utf-8")
    with pytest.raises(datasets.DatasetFormatError, match="bad.tsv:1"):
        datasets.read_labelled_tsv(bad)


def test_tweet_identity_matches_one_tweet_across_exports_but_not_different_tweets() -> None:
    semeval = "@Delta my bag is STILL missing... http://t.co/abc123"
    tweeteval = "@user my bag is still missing"
    assert datasets.tweet_identity(semeval) == datasets.tweet_identity(tweeteval) == "mybagisstillmissing"
    assert datasets.tweet_identity("my bag arrived") != datasets.tweet_identity(tweeteval)
