"""One decoding of imported files (``core.formats.decoding``), its differences as parameters."""

from __future__ import annotations

import pytest

from relance.core.formats.decoding import decode
from relance.core.formats.problems import Problem


class ReaderError(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def test_utf8_without_its_bom_else_windows_1252() -> None:
    assert decode("\ufeffÉchéance".encode(), "a.csv", ReaderError) == "Échéance"
    assert decode("Échéance €".encode("cp1252"), "a.csv", ReaderError) == "Échéance €"


def test_nothing_fits_the_readers_error_names_the_file() -> None:
    with pytest.raises(ReaderError) as caught:
        decode(b"\x81\x8d\x8f\x90\x9d\xff", "releve.ofx", ReaderError)  # not UTF-8; undefined in Windows-1252
    assert str(caught.value.problem) == "releve.ofx : encodage illisible (ni UTF-8 ni Windows-1252)"
    with pytest.raises(ReaderError) as caught:
        decode(b"\x81\xff", "releve.ofx", ReaderError, encodings=("cp1252", "utf-8-sig", "cp1252"))
    assert caught.value.problem.message == "encodage illisible (ni UTF-8 ni Windows-1252)"


def test_the_encodings_met_are_noted_for_non_ascii_text_only() -> None:
    seen: set[str] = set()
    chain = ("utf-8", "cp1252", "iso-8859-15")  # the FEC's: the last decodes every byte
    assert decode(b"411000;Client", "fec.txt", ReaderError, encodings=chain, seen=seen) == "411000;Client"
    assert seen == set()
    decode("Réglé".encode(), "fec.txt", ReaderError, encodings=chain, seen=seen)
    decode("Réglé".encode("cp1252"), "fec.txt", ReaderError, encodings=chain, seen=seen)
    assert decode(b"\x81", "fec.txt", ReaderError, encodings=chain, seen=seen) == "\x81"
    assert seen == {"utf-8", "cp1252", "iso-8859-15"}
