"""The event log's hash chain: any change, removal, reordering or renumbering is detected."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from relance.core.hashchain import GENESIS, ChainedRecord, ChainProblem, canonical, link, verify

BROKEN_LINK = "le lien vers l’événement précédent est rompu"
BAD_HASH = "le contenu ne correspond plus à son empreinte"


def build_chain(n: int) -> list[ChainedRecord]:
    records: list[ChainedRecord] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        payload = {"kind": "reminder.sent", "seq": seq, "amount": Decimal("12.50") * seq,
                   "on": date(2026, 11, seq % 28 + 1)}
        h = link(prev, payload)
        records.append(ChainedRecord(seq, payload, prev, h))
        prev = h
    return records


def test_canonical_is_stable_and_compact() -> None:
    assert canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    assert canonical({"a": 1, "b": 2}) == canonical({"b": 2, "a": 1})
    assert canonical({"d": date(2026, 11, 23), "m": Decimal("1.50")}) == b'{"d":"2026-11-23","m":"1.50"}'


def test_link_formula() -> None:
    payload = {"x": 1}
    expected = hashlib.sha256(GENESIS.encode() + b"\n" + b'{"x":1}').hexdigest()
    assert link(GENESIS, payload) == expected
    assert GENESIS == "0" * 64


def test_empty_chain_verifies() -> None:
    assert verify([]) == []


@given(st.integers(1, 30))
def test_intact_chain_verifies(n: int) -> None:
    records = build_chain(n)
    assert records[0].prev_hash == GENESIS
    assert verify(records) == []
    assert verify(iter(records)) == []  # any iterable


@st.composite
def chain_and_index(draw: st.DrawFn, min_size: int = 1) -> tuple[list[ChainedRecord], int]:
    n = draw(st.integers(min_size, 25))
    return build_chain(n), draw(st.integers(0, n - 1))


@given(chain_and_index())
def test_changed_payload_is_detected(case: tuple[list[ChainedRecord], int]) -> None:
    records, i = case
    tampered = {**records[i].payload, "amount": Decimal("0.01")}
    records[i] = dataclasses.replace(records[i], payload=tampered)
    assert verify(records) == [ChainProblem(i + 1, BAD_HASH)]


@given(chain_and_index(min_size=2))
def test_changed_payload_with_recomputed_hash_breaks_the_next_link(case: tuple[list[ChainedRecord], int]) -> None:
    records, i = case
    if i == len(records) - 1:
        i -= 1
    tampered = {**records[i].payload, "amount": Decimal("0.01")}
    records[i] = dataclasses.replace(records[i], payload=tampered, hash=link(records[i].prev_hash, tampered))
    assert verify(records) == [ChainProblem(i + 2, BROKEN_LINK)]


@given(chain_and_index())
def test_changed_hash_is_detected(case: tuple[list[ChainedRecord], int]) -> None:
    records, i = case
    records[i] = dataclasses.replace(records[i], hash="f" * 64)
    problems = verify(records)
    assert ChainProblem(i + 1, BAD_HASH) in problems
    if i + 1 < len(records):
        assert ChainProblem(i + 2, BROKEN_LINK) in problems
    assert len(problems) == (2 if i + 1 < len(records) else 1)


@given(chain_and_index(min_size=2))
def test_deleted_record_is_detected(case: tuple[list[ChainedRecord], int]) -> None:
    records, i = case
    if i == len(records) - 1:
        i -= 1  # removing the very last record: see test_truncating_the_tail_needs_an_anchor
    del records[i]
    problems = verify(records)
    if i == 0:
        # the new first record does not link to the genesis and is numbered 2
        assert problems == [ChainProblem(2, "numéro attendu 1, trouvé 2"), ChainProblem(2, BROKEN_LINK)]
    else:
        assert problems == [ChainProblem(i + 2, f"numéro attendu {i + 1}, trouvé {i + 2}"),
                            ChainProblem(i + 2, BROKEN_LINK)]


def test_truncating_the_tail_needs_an_anchor() -> None:
    # verify() only sees the records it is given: dropping the newest ones leaves a valid prefix.
    # Detecting it takes a reference kept elsewhere (the expected head hash or count).
    records = build_chain(5)
    assert verify(records[:-1]) == []
    assert records[:-1][-1].hash != records[-1].hash


@given(st.integers(2, 25).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))))
def test_swapped_records_are_detected(case: tuple[int, list[int]]) -> None:
    n, (i, j) = case
    records = build_chain(n)
    records[i], records[j] = records[j], records[i]
    lo, hi = sorted((i, j))
    problems = verify(records)
    # the first displaced record is out of sequence and does not link to its new predecessor
    assert problems[:2] == [ChainProblem(hi + 1, f"numéro attendu {lo + 1}, trouvé {hi + 1}"),
                            ChainProblem(hi + 1, BROKEN_LINK)]


@given(st.integers(2, 25).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))))
def test_swapped_payloads_are_detected(case: tuple[int, list[int]]) -> None:
    n, (i, j) = case
    records = build_chain(n)
    pi, pj = records[i].payload, records[j].payload
    records[i] = dataclasses.replace(records[i], payload=pj)
    records[j] = dataclasses.replace(records[j], payload=pi)
    assert verify(records) == sorted(
        [ChainProblem(i + 1, BAD_HASH), ChainProblem(j + 1, BAD_HASH)], key=lambda p: p.seq)


@given(chain_and_index(), st.integers(-5, 100))
def test_renumbered_record_is_detected(case: tuple[list[ChainedRecord], int], new_seq: int) -> None:
    records, i = case
    if new_seq == records[i].seq:
        new_seq += 1
    records[i] = dataclasses.replace(records[i], seq=new_seq)
    problems = verify(records)
    assert problems[0] == ChainProblem(new_seq, f"numéro attendu {i + 1}, trouvé {new_seq}")
    assert all(p.message.startswith("numéro attendu") for p in problems)


@given(st.integers(1, 25), st.integers(1, 10))
def test_renumbering_the_whole_chain_is_detected(n: int, shift: int) -> None:
    records = [dataclasses.replace(r, seq=r.seq + shift) for r in build_chain(n)]
    assert verify(records) == [ChainProblem(1 + shift, f"numéro attendu 1, trouvé {1 + shift}")]


def test_a_forged_first_record_must_link_to_genesis() -> None:
    records = build_chain(3)
    forged = dataclasses.replace(records[0], prev_hash="a" * 64, hash=link("a" * 64, records[0].payload))
    problems = verify([forged, *records[1:]])
    assert problems == [ChainProblem(1, BROKEN_LINK), ChainProblem(2, BROKEN_LINK)]
