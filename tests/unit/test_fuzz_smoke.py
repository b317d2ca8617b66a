"""A short run of bench/fuzz.py in the suite (issue #11): 300 mutated inputs per importer through its parser,
no exception other than the parser's declared error. The full run (10 000 per format, and the import services on
SQLite and PostgreSQL) is recorded in docs/security.md § 6."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _fuzz() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("relance_bench_fuzz", BENCH / "fuzz.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["relance_bench_fuzz"] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


FUZZ = _fuzz()
SEEDS = FUZZ.seeds()


@pytest.mark.parametrize("fmt", list(SEEDS))
def test_mutated_inputs_without_a_crash(fmt: str, tmp_path: Path) -> None:
    logging.disable(logging.CRITICAL)
    try:
        tally = FUZZ.fuzz_parsers(fmt, SEEDS[fmt], 300, 2026, tmp_path)
    finally:
        logging.disable(logging.NOTSET)
    assert tally.inputs == 300
    assert tally.crashes == 0, tally.crash_kinds
