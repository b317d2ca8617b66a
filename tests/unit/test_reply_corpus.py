"""The classifier measured on the labelled corpus (tests/fixtures/replies/corpus.jsonl). The
held-out part was written after the rules were frozen and never tuned on: its figures are those of
docs/replies.md. ``bench/replies_accuracy.py`` prints the confusion matrix."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from relance.core.replies import CATEGORIES
from relance.core.replies.measure import load, measure

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "replies" / "corpus.jsonl"
#: measured once on the held-out part (the fifth round, written by someone who had not read the rules:
#: docs/replies.md): a floor, so a change of the rules that loses on it fails; the target of the issue
#: (90 %) is the strict xfail below
HELD_OUT_FLOOR = 0.825
#: the promised or return dates read right when the category is right, on the same round: 18 of 18
DATES_FLOOR = 1.0
TARGET = 0.90


def test_the_corpus_is_large_and_labelled_with_the_issue_s_categories():
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    french = [r for r in rows if r["language"] == "fr"]
    assert len(french) >= 200 and len(rows) - len(french) >= 20
    assert {r["category"] for r in rows} == set(CATEGORIES)
    assert sum(r["split"] == "heldout" for r in rows) >= 60
    assert all({"text", "subject", "date", "category", "promised_date", "return_date"} <= set(r) for r in rows)
    assert not [text for text, n in Counter(r["text"] for r in rows).items() if n > 1]


def test_held_out_accuracy_per_category_and_overall():
    result = measure(load(CORPUS, "heldout"))
    print("\n" + result.table())
    assert result.total >= 60
    assert result.accuracy >= HELD_OUT_FLOOR
    for category in CATEGORIES:
        recall = result.recall(category)
        assert recall is not None and recall >= 0.5, category
    assert result.dates_right >= DATES_FLOOR * result.dates_total


@pytest.mark.xfail(strict=True, reason="held-out accuracy measured at 82.5 % (66/80), under the issue's 90 % target")
def test_held_out_accuracy_reaches_the_target():
    assert measure(load(CORPUS, "heldout")).accuracy >= TARGET


def test_tuning_part_is_learnt():
    assert measure(load(CORPUS, "tuning")).accuracy >= 0.97
