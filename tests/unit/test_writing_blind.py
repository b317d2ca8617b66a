"""The writing check on text its rules never saw (issue #17): a corpus written blind by someone who
had not read the checker (tests/fixtures/writing_blind/heldout2_fr.tsv, 100 sentences, measured once
after the rules were frozen: 41/50 errors found, 0/50 correct sentences flagged). Its misses are not
turned into rules, so that it stays a measure: the floor below guards against a regression, the
issue's 90 % on unseen text is the strict xfail until a rule set reaches it on a fresh corpus."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "writing_heldout.py"


def _script():
    spec = importlib.util.spec_from_file_location("writing_heldout", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def blind() -> dict:
    script = _script()
    result = script.measure(script.read_rows(script.BLIND))
    print(f"\nblind corpus: recall {result['recall']:.1%}, false positives {result['false_positive_rate']:.1%}")
    return result


def test_the_blind_corpus_keeps_its_measured_floor(blind: dict) -> None:
    assert blind["errors"] == 50 and blind["correct"] == 50
    assert blind["recall"] >= 0.80, blind["misses"]
    assert blind["false_positive_rate"] <= 0.05, blind["false_positives"]


@pytest.mark.xfail(strict=True, reason="82 % of a blind corpus's errors found (grammar 8/15, tone 6/8): under the "
                                       "issue's 90 % on unseen text")
def test_the_blind_corpus_reaches_the_issue_target(blind: dict) -> None:
    assert blind["recall"] >= 0.90
