"""Readers for the public data sets under the shared data root: each returns (text, label) pairs.

Every reader takes the data root (the directory holding `clinc150/`, `banking77/`, ...) and reads the
files exactly as their SOURCE.md describes them; none of them downloads anything.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

Example = tuple[str, str]
Splits = dict[str, list[Example]]

SENTIMENT_LABELS = ("negative", "neutral", "positive")


class DatasetFormatError(ValueError):
    """A data file does not have the shape its reader expects."""


def load_clinc150(root: Path) -> Splits:
    """CLINC150 (full): train, val, test, oos_train, oos_val, oos_test; out-of-scope texts are labelled `oos`."""
    path = Path(root) / "clinc150" / "data_full.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {split: [(str(text), str(label)) for text, label in pairs] for split, pairs in raw.items()}


def load_banking77(root: Path) -> Splits:
    """Banking77: train and test (no validation split is shipped)."""
    folder = Path(root) / "banking77"
    return {split: _read_csv_columns(folder / f"{split}.csv", "text", "category") for split in ("train", "test")}


BITEXT_FILES = {
    "train": "Bitext_Sample_Customer_Service_Training_Dataset.csv",
    "dev": "Bitext_Sample_Customer_Service_Validation_Dataset.csv",
    "test": "Bitext_Sample_Customer_Service_Testing_Dataset.csv",
}


def load_bitext(root: Path) -> Splits:
    """Bitext customer-support sample: train, dev, test; labels are its 27 intents."""
    folder = Path(root) / "bitext-customer-support"
    return {split: _read_csv_columns(folder / name, "utterance", "intent") for split, name in BITEXT_FILES.items()}


def load_sst2(root: Path) -> Splits:
    """SST-2: train (phrases), dev and test (sentences); labels `negative` / `positive`."""
    folder = Path(root) / "sst2"
    names = {"0": "negative", "1": "positive"}
    splits: Splits = {}
    for split in ("train", "dev", "test"):
        with open(folder / f"{split}.tsv", encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(rows)  # header: label<TAB>sentence (train) or label<TAB>content (dev, test)
            splits[split] = [(text, names[label]) for label, text in rows]
    return splits


def load_tweeteval_sentiment(root: Path) -> Splits:
    """TweetEval sentiment: val and test (the shared copy has no train); labels negative / neutral / positive."""
    return _read_tweeteval(Path(root) / "tweeteval-sentiment")


def load_tweeteval_emotion(root: Path) -> Splits:
    """TweetEval emotion: train, val, test; labels anger / joy / optimism / sadness."""
    return _read_tweeteval(Path(root) / "tweeteval-emotion")


def load_twitter_airline(root: Path) -> list[Example]:
    """Twitter US airline sentiment, all 14,640 tweets. Non-commercial licence: evaluate on it, never train."""
    return _read_csv_columns(Path(root) / "twitter-airline-sentiment" / "Tweets.csv", "text", "airline_sentiment")


# A record starts with the tweet id (twitter files) or two ids (sms, livejournal), then the label.
_SEMEVAL_RECORD = re.compile(r"^(\S+)\t(?:(\S+)\t)?(negative|neutral|positive)\t(.*)$")
_LITERAL_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def load_semeval2017(root: Path, include_non_twitter: bool = True) -> list[Example]:
    """SemEval-2017 task 4A training compilation, de-duplicated by message id (first occurrence wins).

    The files repeat 665 annotations across runs, so the id (tweet id; the message id for the SMS and
    LiveJournal sets) decides identity. Literal `\\uXXXX` escapes in the text are decoded.
    """
    folder = Path(root) / "semeval2017-task4a"
    files = sorted(folder.glob("twitter-*-A.txt"))
    if include_non_twitter:
        files += sorted(folder.glob("*-A.tsv"))
    if not files:
        raise DatasetFormatError(f"no SemEval-2017 subtask A files in {folder}")
    seen: set[str] = set()
    examples: list[Example] = []
    for path in files:
        for key, label, text in _read_semeval_file(path):
            if key in seen:
                continue
            seen.add(key)
            examples.append((text, label))
    return examples


def _read_semeval_file(path: Path) -> list[tuple[str, str, str]]:
    """(id, label, text) records; a line that does not start a record continues the previous text."""
    records: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _SEMEVAL_RECORD.match(line)
        if match:
            tweet_id, message_id, label, text = match.groups()
            records.append([f"{path.suffix}:{message_id or tweet_id}", label, text])
        elif records and line.strip():
            records[-1][2] += "\n" + line
        elif line.strip():
            raise DatasetFormatError(f"{path.name}: first line is not a record: {line[:80]!r}")
    return [(key, label, _clean_semeval_text(text)) for key, label, text in records]


def decode_literal_escapes(text: str) -> str:
    """Turn the literal `\\u2019` escapes some SemEval-era exports carry back into characters."""
    return _LITERAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _clean_semeval_text(text: str) -> str:
    text = decode_literal_escapes(text).strip()
    # Some texts are wrapped in one pair of double quotes by the original export.
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].strip()
    return text


def _read_tweeteval(folder: Path) -> Splits:
    names = {}
    for line in (folder / "mapping.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            index, name = line.split("\t")
            names[index.strip()] = name.strip()
    splits: Splits = {}
    for text_path in sorted(folder.glob("*_text.txt")):
        split = text_path.name.removesuffix("_text.txt")
        texts = text_path.read_text(encoding="utf-8").split("\n")
        labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split("\n")
        texts, labels = _drop_final_empty(texts), _drop_final_empty(labels)
        if len(texts) != len(labels):
            raise DatasetFormatError(f"{folder.name}/{split}: {len(texts)} texts but {len(labels)} labels")
        splits[split] = [
            (decode_literal_escapes(text).strip(), names[label.strip()])
            for text, label in zip(texts, labels, strict=False)
        ]
    return splits


def _drop_final_empty(lines: list[str]) -> list[str]:
    return lines[:-1] if lines and lines[-1] == "" else lines


def _read_csv_columns(path: Path, text_column: str, label_column: str) -> list[Example]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {text_column, label_column} - set(reader.fieldnames or ())
        if missing:
            raise DatasetFormatError(f"{path.name}: missing columns {sorted(missing)}")
        return [(row[text_column], row[label_column]) for row in reader]


_HANDLE_OR_LINK = re.compile(r"@\w+|https?://\S+")
_NON_WORD = re.compile(r"[\W_]+")


def tweet_identity(text: str) -> str:
    """A tweet's text with handles, links, case and punctuation dropped, so two exports of one tweet compare equal.

    TweetEval replaced handles with `@user` and trimmed links; SemEval's files keep them.
    """
    return _NON_WORD.sub("", _HANDLE_OR_LINK.sub("", text.lower()))


def texts_of(examples: list[Example]) -> list[str]:
    return [text for text, _ in examples]


def read_labelled_tsv(path: Path) -> list[Example]:
    """A small hand-written `label<TAB>text` file; `#` lines are comments."""
    examples: list[Example] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise DatasetFormatError(f"{path}:{number}: expected label<TAB>text")
        examples.append((text.strip(), label.strip()))
    return examples
