"""Read a FEC (fichier des écritures comptables, LPF art. A47 A-1) and extract
the open customer items from it.

The file is read line by line (bounded memory): only the running totals of the
entries that do not balance yet are kept (see :class:`_Entries`). Accepted
variants, all seen in real exports:

* separator TAB or ``|``, detected from the header line;
* UTF-8 with or without BOM, else ISO-8859-15 / Windows-1252 (decided per line);
  UTF-16 (Excel's « Texte Unicode ») and binary files (XLSX, PDF) are refused
  at line 1 with a message saying what to do;
* CRLF or LF line ends, space-padded fields (Agrigest fixed-width export);
* header names compared without case, spaces or underscores (``MontantDevise``,
  ``IDevise``...), extra columns ignored (21-column BA/BNC export with
  ``DateRglt``, ``ModeRglt``, ``NatOp``);
* amounts with a comma or a dot, signed and zero-padded (``+000000069,40``),
  integral amounts without decimals (``8957``);
* ``Montant`` + ``Sens`` (D/C, +1/-1) instead of ``Debit`` + ``Credit``;
* dates ``AAAAMMJJ`` (also ``AAAA-MM-JJ`` and ``JJ/MM/AAAA``).

Nothing here imports Django.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, NamedTuple

from .decoding import decode
from .problems import Problem

MAX_BYTES = 500 * 1024 * 1024
MAX_LINES = 5_000_000
MAX_LINE_CHARS = 10_000
MAX_UNBALANCED_REPORTED = 50
_DATE_CACHE_SIZE = 100_000
_AMOUNT_CACHE_SIZE = 20_000
_ZEROS = frozenset(("", "0", "0,00", "0.00", "0,0", "0.0", "+0", "-0", "+000000000,00", "0,000"))
_AMOUNT_CHARS = "0123456789,.+-"

ZERO = Decimal("0")

STANDARD_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
# normalised header -> canonical name
_CANONICAL = {c.lower(): c for c in (*STANDARD_COLUMNS, "Montant", "Sens")}
_REQUIRED = ("JournalCode", "EcritureNum", "EcritureDate", "CompteNum")
# the text columns read from each line, in this order, then the two amount columns
_TEXT_COLUMNS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
    "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "EcritureLet", "DateLet",
)


class FecLine(NamedTuple):
    line_no: int
    journal: str
    journal_label: str
    entry_num: str
    entry_date: date
    account: str
    account_label: str
    aux_num: str
    aux_label: str
    piece_ref: str
    piece_date: date | None
    label: str
    debit: Decimal
    credit: Decimal
    letter: str
    letter_date: date | None

    @property
    def amount(self) -> Decimal:
        """Debit minus credit: positive for an invoice, negative for a payment or a credit note."""
        return self.debit - self.credit

    @property
    def issued(self) -> date:
        """The date of the piece (invoice, credit note, payment), else of the entry."""
        return self.piece_date or self.entry_date


@dataclass
class FecStats:
    separator: str = ""
    columns: list[str] = field(default_factory=list)
    encodings: set[str] = field(default_factory=set)
    lines: int = 0
    entries: int = 0
    total_debit: Decimal = ZERO
    total_credit: Decimal = ZERO
    unbalanced_entries: int = 0
    cross_journal_entries: int = 0
    first_date: date | None = None
    last_date: date | None = None
    journals: dict[str, str] = field(default_factory=dict)  # code -> label (the first one met)
    sales_journals: set[str] = field(default_factory=set)  # journals with lines on 70… accounts


@dataclass
class FecResult:
    """``lines`` is a list, or with ``stream=True`` an iterator: ``problems`` and
    ``stats`` are then complete only once that iterator has been exhausted."""

    lines: list[FecLine] | Iterator[FecLine]
    problems: list[Problem]
    stats: FecStats


class FecError(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.strip().strip('"').lstrip("\ufeff")).lower()


#: cp1252 leaves five bytes undefined; ISO-8859-15 decodes every byte (a FEC line is never refused for it)
FEC_ENCODINGS = ("utf-8", "cp1252", "iso-8859-15")


_AMOUNT = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def parse_fec_amount(text: str) -> Decimal:
    """``+000000069,40`` → 69.40; empty → 0. Raises ValueError otherwise."""
    s = text.replace(" ", "").replace("\u00a0", "")
    if not s:
        return ZERO
    if not _AMOUNT.fullmatch(s):
        raise ValueError(f"montant illisible : {text.strip()!r}")
    if len(s) > 40:
        raise ValueError(f"montant illisible : {s[:40]!r}…")
    try:
        value = Decimal(s.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regex
        raise ValueError(f"montant illisible : {text.strip()!r}") from exc
    if abs(value) > MAX_FEC_AMOUNT:
        raise ValueError(f"montant trop grand : {text.strip()!r} (au plus 999 999 999 999,99)")
    return value


MAX_FEC_AMOUNT = Decimal("999999999999.99")  # the ledger's money columns: 14 digits, 2 of them decimals


_DATE_FORMATS = (
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), (1, 2, 3)),
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), (1, 2, 3)),
    (re.compile(r"(\d{2})/(\d{2})/(\d{4})"), (3, 2, 1)),
)


def parse_fec_date(text: str) -> date | None:
    """``20190731`` → date(2019, 7, 31); empty → None. Raises ValueError otherwise."""
    s = text.strip()
    if not s:
        return None
    for pattern, (y, m, d) in _DATE_FORMATS:
        match = pattern.fullmatch(s)
        if match:
            try:
                value = date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError as exc:
                raise ValueError(f"date impossible : {s!r}") from exc
            if not 1900 <= value.year <= 2199:
                raise ValueError(f"date hors limites : {s!r} (attendu entre 1900 et 2199)")
            return value
    raise ValueError(f"date illisible (attendu AAAAMMJJ) : {s!r}")


def _sens(text: str) -> int:
    s = text.strip().upper()
    if s in ("D", "+1", "1", "+"):
        return 1
    if s in ("C", "-1", "-"):
        return -1
    raise ValueError(f"sens illisible (attendu D ou C) : {text.strip()!r}")


@dataclass(slots=True)
class _OpenEntry:
    debit: Decimal
    credit: Decimal
    first: int
    journal: str
    num: str
    day: date | None


class _Entries:
    """Checks that every entry (journal + EcritureNum) balances, in bounded memory.

    The lines of an entry are nearly always contiguous: the parser keeps the running
    totals of the current entry in plain variables and hands them over when its run
    of lines ends (:meth:`flush`); only an entry that does not balance then is
    remembered (``open``). A later run of
    the same entry is added to it; an entry that balances again is forgotten (its
    totals, if it is unbalanced again later, then count from there). Of the
    balanced entries only the key is kept, to count them.

    Some software (Agrigest) numbers entries across the whole file and puts the
    counterpart of a purchase in another journal (A n° 1 against OD n° 1, same
    date, same PieceRef): an entry that does not balance within its journal is
    accepted when the entries of the other journals sharing its EcritureNum *and
    its EcritureDate* balance it (counted in ``cross_journal``). Checked on the
    Agrigest export of the corpus: 36 such halves, 18 numbers, all dated alike.
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.open: dict[str, _OpenEntry] = {}

    def flush(self, journal: str, num: str, day: date | None, debit: Decimal, credit: Decimal, first: int) -> None:
        """A run of contiguous lines of one entry has ended."""
        key = f"{journal}\x1f{num}"
        record = self.open.get(key)
        if record is None:
            self.seen.add(key)
            if debit != credit:
                self.open[key] = _OpenEntry(debit, credit, first, journal, num, day)
        else:
            record.debit += debit
            record.credit += credit
            if record.debit == record.credit:
                del self.open[key]

    def finish(self) -> tuple[list[_OpenEntry], int]:
        """(entries that do not balance, entries balanced only across journals)."""
        by_num: dict[str, list[_OpenEntry]] = {}
        for record in self.open.values():
            by_num.setdefault(record.num, []).append(record)
        bad: list[_OpenEntry] = []
        cross = 0
        for records in by_num.values():
            net = sum((r.debit - r.credit for r in records), ZERO)
            if len(records) > 1 and net == 0 and len({r.day for r in records}) == 1:
                cross += len(records)
            else:
                bad += records
        bad.sort(key=lambda r: r.first)
        return bad, cross

    @staticmethod
    def problems(filename: str, unbalanced: list[_OpenEntry]) -> list[Problem]:
        out: list[Problem] = []
        for r in unbalanced[:MAX_UNBALANCED_REPORTED]:
            out.append(
                Problem(
                    filename,
                    r.first,
                    "EcritureNum",
                    f"écriture non équilibrée : journal {r.journal}, n° {r.num} — "
                    f"débit {r.debit} ≠ crédit {r.credit} (écart {r.debit - r.credit})",
                )
            )
        if len(unbalanced) > MAX_UNBALANCED_REPORTED:
            out.append(
                Problem(
                    filename,
                    None,
                    None,
                    f"{len(unbalanced)} écritures non équilibrées en tout ({MAX_UNBALANCED_REPORTED} premières listées)",
                )
            )
        return out


def _open_binary(source: Path | str | bytes | BinaryIO, max_bytes: int, filename: str) -> Iterable[bytes]:
    if isinstance(source, bytes):
        if len(source) > max_bytes:
            raise FecError(Problem(filename, None, None, f"fichier trop gros (plus de {max_bytes} octets)"))
        return iter(source.splitlines(keepends=True))
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.stat().st_size > max_bytes:
            raise FecError(Problem(filename, None, None, f"fichier trop gros (plus de {max_bytes} octets)"))
        return _read_path(path)
    return source


def _read_path(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from fh


def _binary_problem(raw: bytes, filename: str) -> Problem | None:
    """A first line that is not text: say what the file is and what to do."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"\x00" in raw[:200] and raw[1:2] == b"\x00"):
        return Problem(filename, 1, None, "fichier encodé en UTF-16 (« Texte Unicode » d’Excel) : un FEC est un "
                       "fichier texte en UTF-8 ou ISO-8859-15 ; exportez-le de nouveau depuis le logiciel comptable "
                       "ou enregistrez-le en « Texte (séparateur : tabulation) »")
    if raw.startswith(b"PK\x03\x04"):
        return Problem(filename, 1, None, "ce fichier est un classeur Excel ou une archive ZIP, pas un FEC : "
                       "exportez le FEC en texte (tabulations ou barres verticales) depuis le logiciel comptable")
    if raw.startswith(b"%PDF"):
        return Problem(filename, 1, None, "ce fichier est un PDF, pas un FEC : exportez le FEC en texte depuis le "
                       "logiciel comptable")
    if b"\x00" in raw:
        return Problem(filename, 1, None, "fichier binaire (octets nuls) : ce n’est pas un FEC texte")
    return None


_new_line = tuple.__new__  # FecLine's own __new__ is a Python function: 2 µs a line


class _LineReader:
    """Turns the cells of one data line into a :class:`FecLine` (the hot loop of the parser)."""

    def __init__(self, columns: dict[str, int], n_fields: int, filename: str, problems: list[Problem]) -> None:
        absent = n_fields  # index of the empty cell appended to every line
        self.montant_sens = not ("Debit" in columns and "Credit" in columns)
        amounts = ("Montant", "Sens") if self.montant_sens else ("Debit", "Credit")
        self.get = itemgetter(*(columns.get(name, absent) for name in (*_TEXT_COLUMNS, *amounts)))
        # the columns the light lane reads (``parse_fec(only_prefix=…)``); JournalLib may be absent
        self.light_columns = tuple(columns.get(name, absent) for name in (
            "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", *amounts))
        self.filename = filename
        self.problems = problems
        self.dates: dict[str, date] = {}
        self.amounts: dict[str, Decimal] = {}

    def parse_date(self, text: str, line_no: int, name: str) -> date | None:
        if not text:
            return None
        day = self.dates.get(text)
        if day is None:
            try:
                day = parse_fec_date(text)
            except ValueError as exc:
                self.problems.append(Problem(self.filename, line_no, name, str(exc)))
                return None
            if day is not None and len(self.dates) < _DATE_CACHE_SIZE:
                self.dates[text] = day
        return day

    def parse_amount(self, text: str, line_no: int, name: str) -> Decimal:
        if text in _ZEROS:
            return ZERO
        amount = self.amounts.get(text)
        if amount is not None:
            return amount
        if not text.strip(_AMOUNT_CHARS):  # the common case, without the regex
            try:
                amount = Decimal(text.replace(",", "."))
            except InvalidOperation:
                amount = None
        if amount is None:
            try:
                amount = parse_fec_amount(text)
            except ValueError as exc:
                self.problems.append(Problem(self.filename, line_no, name, str(exc)))
                return ZERO
        if len(self.amounts) < _AMOUNT_CACHE_SIZE:
            self.amounts[text] = amount
        return amount

    def missing(self, line_no: int, values: tuple[str, ...]) -> None:
        for name, value in zip(_REQUIRED, values, strict=True):
            if not value:
                self.problems.append(Problem(self.filename, line_no, name, "champ obligatoire vide"))

    def debit_credit(self, first: str, second: str, line_no: int) -> tuple[Decimal, Decimal]:
        if not self.montant_sens:
            return self.parse_amount(first, line_no, "Debit"), self.parse_amount(second, line_no, "Credit")
        amount = self.parse_amount(first, line_no, "Montant")
        try:
            sign = _sens(second)
        except ValueError as exc:
            self.problems.append(Problem(self.filename, line_no, "Sens", str(exc)))
            sign = 1
        if amount < 0:
            amount, sign = -amount, -sign
        return (amount, ZERO) if sign > 0 else (ZERO, amount)

    def read(self, cells: list[str], line_no: int, quoted: bool) -> FecLine | None:
        cells.append("")
        values: Iterator[str] = map(str.strip, self.get(cells))
        if quoted:
            values = (v.strip('"').strip() for v in values)
        (journal, journal_label, num, entry_text, account, account_label, aux_num, aux_label, piece_ref, piece_text,
         label, letter, letter_text, first_amount, second_amount) = values
        problems = self.problems
        errors = len(problems)
        if not (journal and num and entry_text and account):
            self.missing(line_no, (journal, num, entry_text, account))
        dates = self.dates
        entry_date = dates.get(entry_text) or self.parse_date(entry_text, line_no, "EcritureDate")
        piece_date = (dates.get(piece_text) or self.parse_date(piece_text, line_no, "PieceDate")) if piece_text else None
        letter_date = (dates.get(letter_text) or self.parse_date(letter_text, line_no, "DateLet")) if letter_text else None
        debit, credit = self.debit_credit(first_amount, second_amount, line_no)
        if len(problems) > errors or entry_date is None:
            return None
        return _new_line(FecLine, (line_no, journal, journal_label, num, entry_date, account, account_label, aux_num,
                                   aux_label, piece_ref, piece_date, label, debit, credit, letter, letter_date))


def _iter_fec(
    raw_lines: Iterable[bytes],
    filename: str,
    problems: list[Problem],
    stats: FecStats,
    max_bytes: int,
    max_lines: int,
    only_prefix: str | None = None,
) -> Iterator[FecLine]:
    entries = _Entries()
    flush = entries.flush
    reader: _LineReader | None = None
    i_journal = i_journal_label = i_num = i_date = i_account = i_first = i_second = 0
    montant_sens = False
    dates: dict[str, date] = {}
    amounts: dict[str, Decimal] = {}
    journals, sales = stats.journals, stats.sales_journals
    # the current run of lines of one entry
    run_journal = run_num = ""
    run_day: date | None = None
    run_debit = run_credit = ZERO
    run_first = 0
    n_fields = 0
    sep = ""
    size = 0
    line_no = 0
    count = 0
    utf8_seen = False
    previous_day: date | None = None
    first_date: date | None = None
    last_date: date | None = None
    total_debit = total_credit = ZERO
    for raw in raw_lines:
        line_no += 1
        size += len(raw)
        if size > max_bytes:
            problems.append(Problem(filename, line_no, None, f"fichier trop gros (plus de {max_bytes} octets)"))
            stats.lines = count
            return
        if line_no == 1:
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            binary = _binary_problem(raw, filename)
            if binary is not None:
                problems.append(binary)
                return
            text = decode(raw, filename, FecError, encodings=FEC_ENCODINGS, seen=stats.encodings)
            header = _parse_header(text.rstrip("\r\n"), filename, problems, stats)
            if header is None:
                return
            sep, columns, n_fields = header
            reader = _LineReader(columns, n_fields, filename, problems)
            i_journal, i_journal_label, i_num, i_date, i_account, i_first, i_second = reader.light_columns
            montant_sens, dates, amounts = reader.montant_sens, reader.dates, reader.amounts
            continue
        if 0 in raw:  # a NUL byte (memchr: ten times faster than b"\x00" in raw)
            problems.append(Problem(filename, line_no, None, "octets nuls : fichier binaire ou tronqué ?"))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = decode(raw, filename, FecError, encodings=FEC_ENCODINGS[1:], seen=stats.encodings)
        else:
            if not utf8_seen and not raw.isascii():
                utf8_seen = True
                stats.encodings.add("utf-8")
        text = text.rstrip("\r\n")
        if not text or text.isspace():
            continue
        if len(text) > MAX_LINE_CHARS:
            problems.append(Problem(filename, line_no, None, f"ligne trop longue (plus de {MAX_LINE_CHARS} caractères)"))
            continue
        if count >= max_lines:
            problems.append(Problem(filename, line_no, None, f"plus de {max_lines} lignes : lecture arrêtée"))
            stats.lines = count
            return
        assert reader is not None
        cells = text.split(sep)
        if len(cells) != n_fields:
            if len(cells) == n_fields + 1 and not cells[-1].strip():
                cells.pop()  # a trailing separator
            else:
                what = "incomplète" if len(cells) < n_fields else "trop longue"
                hint = " — fichier tronqué ?" if len(cells) < n_fields else ""
                problems.append(
                    Problem(filename, line_no, None, f"ligne {what} : {len(cells)} champs au lieu de {n_fields}{hint}")
                )
                continue
        quoted = '"' in text
        line: FecLine | None = None
        account = cells[i_account].strip()
        if quoted:
            account = account.strip('"').strip()
        if only_prefix is not None and not account.startswith(only_prefix):
            # the light lane: only what the balance needs, inline (most lines of a book)
            journal, num, entry_text = cells[i_journal].strip(), cells[i_num].strip(), cells[i_date].strip()
            first_amount, second_amount = cells[i_first].strip(), cells[i_second].strip()
            if quoted:
                journal, num, entry_text, first_amount, second_amount = (
                    v.strip('"').strip() for v in (journal, num, entry_text, first_amount, second_amount))
            errors = len(problems)
            if not (journal and num and entry_text and account):
                reader.missing(line_no, (journal, num, entry_text, account))
            day = dates.get(entry_text) or reader.parse_date(entry_text, line_no, "EcritureDate")
            if montant_sens:
                debit, credit = reader.debit_credit(first_amount, second_amount, line_no)
            else:
                debit = ZERO if first_amount in _ZEROS else (
                    amounts.get(first_amount) or reader.parse_amount(first_amount, line_no, "Debit"))
                credit = ZERO if second_amount in _ZEROS else (
                    amounts.get(second_amount) or reader.parse_amount(second_amount, line_no, "Credit"))
            if len(problems) > errors or day is None:
                continue
        else:
            line = reader.read(cells, line_no, quoted)
            if line is None:
                continue
            journal, num, day, debit, credit = line.journal, line.entry_num, line.entry_date, line.debit, line.credit
        count += 1
        if account.startswith("70"):
            sales.add(journal)
        if day is not previous_day:
            previous_day = day
            if first_date is None or day < first_date:
                first_date = day
            if last_date is None or day > last_date:
                last_date = day
        if num == run_num and journal == run_journal:
            run_debit += debit
            run_credit += credit
        else:
            if run_first:
                flush(run_journal, run_num, run_day, run_debit, run_credit, run_first)
                total_debit += run_debit
                total_credit += run_credit
            if journal not in journals:
                label = cells[i_journal_label].strip().strip('"').strip() if i_journal_label < len(cells) else ""
                journals[journal] = label
            run_journal, run_num, run_day, run_first, run_debit, run_credit = journal, num, day, line_no, debit, credit
        if line is not None:
            yield line
    if run_first:
        flush(run_journal, run_num, run_day, run_debit, run_credit, run_first)
        total_debit += run_debit
        total_credit += run_credit
    stats.lines = count
    stats.total_debit, stats.total_credit = total_debit, total_credit
    stats.first_date, stats.last_date = first_date, last_date
    if line_no == 0:
        problems.append(Problem(filename, None, None, "fichier vide"))
        return
    unbalanced, stats.cross_journal_entries = entries.finish()
    stats.entries = len(entries.seen)
    stats.unbalanced_entries = len(unbalanced)
    problems.extend(entries.problems(filename, unbalanced))


def _parse_header(
    text: str, filename: str, problems: list[Problem], stats: FecStats
) -> tuple[str, dict[str, int], int] | None:
    counts = {"\t": text.count("\t"), "|": text.count("|")}
    sep = max(counts, key=lambda s: counts[s])
    if not counts[sep]:
        seen = next((s for s in (";", ",") if s in text), None)
        hint = f" ; ce fichier semble séparé par « {seen} »" if seen else ""
        problems.append(
            Problem(
                filename,
                1,
                None,
                "séparateur non reconnu : un FEC doit être séparé par des tabulations ou des barres verticales (|)" + hint,
            )
        )
        return None
    stats.separator = sep
    names = [h.strip().strip('"').lstrip("\ufeff").strip() for h in text.split(sep)]
    if names and not names[-1]:
        names.pop()
    stats.columns = names
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        canonical = _CANONICAL.get(_normalise_header(name))
        if canonical and canonical not in columns:
            columns[canonical] = index
    missing = [c for c in _REQUIRED if c not in columns]
    has_dc = "Debit" in columns and "Credit" in columns
    has_ms = "Montant" in columns and "Sens" in columns
    if not has_dc and not has_ms:
        missing.append("Debit/Credit (ou Montant/Sens)")
    if missing:
        problems.append(Problem(filename, 1, None, "en-tête FEC incomplet, colonnes manquantes : " + ", ".join(missing)))
        return None
    return sep, columns, len(names)


def parse_fec(
    source: Path | str | bytes | BinaryIO,
    filename: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_lines: int = MAX_LINES,
    stream: bool = False,
    only_prefix: str | None = None,
) -> FecResult:
    """Parse a FEC given as a path, bytes or a binary file object.

    Raises :class:`FecError` only when the file is too big before reading; every
    other defect becomes a :class:`Problem` (line numbers count from 1, header
    included). Lines with a problem are left out of ``lines``.

    With ``only_prefix`` (``"411"``), only the lines of the accounts starting with it
    are returned, and the others are checked only for what the balance of the
    entries needs (journal, number, date, account, amounts): twice as fast on a
    book where customer lines are a minority. ``stats`` still covers every line.
    """
    if filename is None:
        filename = Path(source).name if isinstance(source, (str, Path)) else "FEC"
    problems: list[Problem] = []
    stats = FecStats()
    raw_lines = _open_binary(source, max_bytes, filename)
    iterator = _iter_fec(raw_lines, filename, problems, stats, max_bytes, max_lines, only_prefix)
    if stream:
        return FecResult(iterator, problems, stats)
    return FecResult(list(iterator), problems, stats)


# --------------------------------------------------------------------------- receivables
#
# A customer's open items are its unlettered lines. Lettering (EcritureLet) ties the
# lines of one account that settle each other; a letter group is the lines of one
# account (CompteNum + CompAuxNum) carrying the same letter. When its lines do not
# net to zero the lettering is *partial*:
#
# * Packages mark it differently — Ekylibre appends « * » to the letter of every line
#   of an unbalanced group (``AB*``), Isacompta prefixes « # », others use lowercase
#   letters for a partial lettering that becomes uppercase once complete — and most
#   export no mark at all. So the mark is never trusted: « * » and « # » are removed
#   before grouping (case is kept: ``aa`` and ``AA`` are distinct groups) and the
#   group's lines are summed.
# * A group with debits *and* credits that does not net to zero leaves its residual
#   open: the credits settle the oldest debits first (C. civ. 1342-10), and what is
#   left of the newest ones stays due; conversely an excess of credits stays open as
#   an unapplied credit.
# * A group whose lines are all on one side (all debits or all credits) has its
#   counterpart outside the file (an extract, or an earlier year carried forward as
#   a global balance): the accountant's lettering is trusted, the lines are closed,
#   and a warning counts them (the Sage Coala export of the corpus: 8 payments
#   lettered with invoices that are not in the file).
#
# Each customer line gets a key, its identity in the source, stable from one export of
# the same accounts to the next: ``journal|EcritureNum|CompteNum|CompAuxNum|PieceRef``
# (each part cut at 30 characters), then ``#n`` for the n-th line with the same key,
# then ``|L=<name>`` for a customer guessed from the labels (so that the lines of a
# guessed customer can be found again when the user corrects the guess).

KEY_PART_CHARS = 30
_PARTIAL_MARKS = "*#"
_OPENING = re.compile(r"^(r?an|ano|anx|an0|ouv|ouverture|reports?|deferral)$|nouveau|report|ouverture|deferral",
                      re.IGNORECASE)


class OpenItem(NamedTuple):
    """An open line: an invoice (``open`` > 0) or an unapplied payment or credit note (< 0)."""

    line: FecLine
    key: str
    amount: Decimal  # the line's debit − credit
    open: Decimal  # the part still open, same sign, |open| ≤ |amount| (less after a partial lettering)
    group: str  # the partial letter group it stays open from ("" when unlettered)

    @property
    def is_invoice(self) -> bool:
        return self.open > 0


@dataclass
class CustomerAccount:
    code: str
    name: str
    source: str  # "aux" (CompAuxNum), "account" (individual 411… account) or "label" (guessed)
    open_items: list[OpenItem] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        return sum((i.open for i in self.open_items), ZERO)


@dataclass(slots=True)
class LetterGroup:
    """The lines of one account sharing a letter (only those since the group last netted to zero)."""

    key: str
    letter: str
    lines: list[tuple[FecLine, str, CustomerAccount]] = field(default_factory=list)
    net: Decimal = ZERO
    debits: bool = False
    credits: bool = False
    credit_journals: set[str] = field(default_factory=set)
    last_date: date | None = None
    watched: list[str] = field(default_factory=list)


class Lettering(NamedTuple):
    """How a line named in ``watch`` was lettered in this file."""

    letter: str
    credit_journals: frozenset[str]  # journals of the credits of its group (sales journal → credit note)
    on: date | None  # the latest DateLet or entry date of the group
    complete: bool  # False: its counterpart is not in the file


@dataclass
class Receivables:
    customers: list[CustomerAccount]
    problems: list[Problem]
    customer_lines: int
    open_lines: int
    open_amount: Decimal
    sales_journals: set[str] = field(default_factory=set)
    opening_journals: set[str] = field(default_factory=set)
    lettered: dict[str, Lettering] = field(default_factory=dict)
    partial: dict[str, Lettering] = field(default_factory=dict)  # groups left partly open, by OpenItem.group
    partial_groups: int = 0
    partial_open: Decimal = ZERO
    one_sided_groups: int = 0
    one_sided_amount: Decimal = ZERO
    collective: list[CollectiveAccount] = field(default_factory=list)  # accounts read as collective

    @property
    def customer_count(self) -> int:
        return len(self.customers)

    @property
    def open_customers(self) -> list[CustomerAccount]:
        return [c for c in self.customers if c.open_items]

    @property
    def open_invoices(self) -> list[OpenItem]:
        return [i for c in self.customers for i in c.open_items if i.open > 0]

    @property
    def open_credits(self) -> list[OpenItem]:
        """Unapplied payments and credit notes."""
        return [i for c in self.customers for i in c.open_items if i.open < 0]


_LABEL_NOISE = re.compile(
    r"\b(fa|fac|fact|facture|factures|avoir|av|reglt|rglt|reglement|règlement|regl|vir|virement|vrt|chq|cheque|chèque|"
    r"prlv|prelevement|prélèvement|rem|remise|cb|ch|n°|no|num|ref|client|clients)\b|\w*\d\w*|[^\w\s]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CollectiveAccount:
    """A customer account without sub-ledger whose lines belong to many customers: its
    customers are derived from the entry labels."""

    account: str
    label: str
    reason: str  # « libellé générique », « compte 411000… » or « noms variés dans les écritures »
    lines: int
    names: int


# words of an account label that name no one: « CLIENTS DIVERS », « CLIENTS 31,03,2020 »,
# « CLIENTS INTRA COMM », « COLLECTIF CLIENTS »… (accents dropped, lower case)
_GENERIC_ACCOUNT_WORDS = frozenset("""
clients client clts clt cli cl divers diverses collectif collectifs general generaux generales ordinaire
ordinaires compte comptes intra comm communautaire communautaires ue cee export exports etranger etrangers
france francais hors pro prof profession professionnels professionnel particuliers particulier ventes vente
tiers autres autre dom tom et de des du la le les a en au aux sur cpt cte
""".split())
VARIETY_NAMES = 5  # distinct label names from which an account named for someone may still be collective
VARIETY_SHARE = 0.2  # … when fewer of its lines than this mention the name of the account


def _plain_words(text: str) -> list[str]:
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return [w for w in re.sub(r"[^a-z]+", " ", re.sub(r"\w*\d\w*", " ", text)).split() if len(w) > 1]


def account_label_names(label: str) -> list[str]:
    """The words of a customer account's label that could name a customer (« CLIENTS Bigot » → [bigot])."""
    return [w for w in _plain_words(label) if w not in _GENERIC_ACCOUNT_WORDS]


def collective_reason(account: str, prefix: str, label: str, line_labels: Sequence[str]) -> str | None:
    """Why the lines of ``account`` (without sub-ledger) belong to many customers, or ``None``
    when the account is named for one customer (it then is that customer)."""
    if _is_collective(account, prefix):
        return f"compte {prefix}{'0' * max(0, len(account) - len(prefix))}"
    own = account_label_names(label)
    if not own:
        return "libellé générique"
    names = {name_from_label(text) for text in line_labels} - {NO_LABEL}
    if len(names) < VARIETY_NAMES:
        return None
    mentioning = sum(1 for text in line_labels if any(w in " ".join(_plain_words(text)) for w in own))
    if mentioning < VARIETY_SHARE * len(line_labels):
        return "noms variés dans les écritures"
    return None
NO_LABEL = "(SANS LIBELLÉ)"


def name_from_label(label: str) -> str:
    """The customer name guessed from an entry label: « Facture F101 Dupont » → « DUPONT »
    (the words with a digit, invoice numbers, are dropped)."""
    words = _LABEL_NOISE.sub(" ", label).split()
    return " ".join(words).upper() or NO_LABEL


def _is_collective(account: str, prefix: str) -> bool:
    rest = account[len(prefix) :]
    return not rest.strip("0")


def key_part(text: str) -> str:
    """A part of a line's key (journal, number, account, aux, piece): « | » and « # » are the key's own."""
    return text.replace("|", "/").replace("#", "/")[:KEY_PART_CHARS]


def label_key_suffix(name: str) -> str:
    """The part of the key of a line whose customer was guessed from its label."""
    return "|L=" + key_part(name)


def is_opening_journal(code: str, label: str) -> bool:
    """À-nouveaux (opening entries): ``AN``, ``RAN``, « A nouveaux », « Report », « Deferral »…"""
    return bool(_OPENING.search(code.strip()) or _OPENING.search(label.strip()))


def _letter(text: str) -> str:
    return text.strip().rstrip("*").lstrip("#").strip()


def receivables(
    fec_lines: Iterable[FecLine], customer_prefix: str = "411", filename: str = "FEC", watch: Collection[str] = (),
    stats: FecStats | None = None,
) -> Receivables:
    """Customers and their open items from FEC lines (see the notes above on lettering).

    A customer is the sub-ledger account (CompAuxNum/CompAuxLib); failing that the
    individual ``411…`` account; failing that (only a collective ``41100000``
    account) a name guessed from the entry labels, with a warning. ``watch`` names
    keys (of invoices imported earlier) whose lettering is reported in ``lettered``.
    Pass the parser's ``stats`` when the lines were read with ``only_prefix``: the
    sales and opening journals are then known from all the lines.
    """
    customers: dict[tuple[str, str], CustomerAccount] = {}
    problems: list[Problem] = []
    customer_lines = 0
    guessed_lines: list[int] = []
    key_counts: dict[str, int] = {}
    groups: dict[str, LetterGroup] = {}
    balanced_once: set[str] = set()
    lettered: dict[str, Lettering] = {}
    sales: set[str] = set()
    journals: dict[str, str] = {}
    watch = set(watch)
    def take(line: FecLine, ckey: tuple[str, str], name: str, suffix: str) -> None:
        account = line.account
        customer = customers.get(ckey)
        if customer is None:
            customer = customers[ckey] = CustomerAccount(ckey[1], name, ckey[0])
        base = "|".join((key_part(line.journal), key_part(line.entry_num), key_part(account),
                         key_part(line.aux_num), key_part(line.piece_ref)))
        key = base + suffix
        seen = key_counts.get(key, 0) + 1
        key_counts[key] = seen
        if seen > 1:
            key = f"{base}#{seen}{suffix}"
        amount = line.debit - line.credit
        letter = _letter(line.letter) if line.letter else ""
        if not letter:
            if amount:
                customer.open_items.append(OpenItem(line, key, amount, amount, ""))
            return
        gkey = f"{account}\x1f{line.aux_num}\x1f{letter}"
        group = groups.get(gkey)
        if group is None:
            group = groups[gkey] = LetterGroup(gkey, letter)
            if gkey in balanced_once:
                group.debits = group.credits = True
        group.lines.append((line, key, customer))
        group.net += amount
        if amount > 0:
            group.debits = True
        elif amount < 0:
            group.credits = True
            group.credit_journals.add(line.journal)
        day = line.letter_date or line.entry_date
        if group.last_date is None or day > group.last_date:
            group.last_date = day
        if key in watch:
            group.watched.append(key)
        if group.net == 0 and group.debits and group.credits:
            for watched in group.watched:
                lettered[watched] = Lettering(letter, frozenset(group.credit_journals), group.last_date, True)
            del groups[gkey]
            balanced_once.add(gkey)

    def by_label(line: FecLine) -> None:
        name = name_from_label(line.label)
        guessed_lines.append(line.line_no)
        take(line, ("label", name), name, label_key_suffix(name))

    # lines of accounts without sub-ledger wait until the whole account is known: whether it is
    # collective depends on its label and on the variety of the names in its lines
    pending: dict[str, list[FecLine]] = {}
    for line in fec_lines:
        account = line.account
        if account.startswith("70"):
            sales.add(line.journal)
        if line.journal not in journals:
            journals[line.journal] = line.journal_label
        if not account.startswith(customer_prefix):
            continue
        customer_lines += 1
        if line.aux_num:
            take(line, ("aux", line.aux_num), line.aux_label or line.aux_num, "")
        elif _is_collective(account, customer_prefix):
            by_label(line)
        else:
            pending.setdefault(account, []).append(line)
    collective: list[CollectiveAccount] = []
    for account, lines in pending.items():
        label = next((ln.account_label for ln in lines if ln.account_label), "")
        reason = collective_reason(account, customer_prefix, label, [ln.label for ln in lines])
        if reason is None:
            for line in lines:
                take(line, ("account", account), line.account_label or account, "")
            continue
        for line in lines:
            by_label(line)
        collective.append(CollectiveAccount(account, label, reason, len(lines),
                                            len({name_from_label(ln.label) for ln in lines})))
    partial_groups = one_sided = 0
    partial_open = one_sided_amount = ZERO
    partial: dict[str, Lettering] = {}
    for group in groups.values():
        if not group.net:
            continue
        info = Lettering(group.letter, frozenset(group.credit_journals), group.last_date,
                         group.debits and group.credits)
        for watched in group.watched:
            lettered[watched] = info
        if not info.complete:
            one_sided += 1
            one_sided_amount += group.net
            continue
        partial_groups += 1
        partial_open += group.net
        partial[group.key] = info
        for line, key, customer, left in _residuals(group):
            customer.open_items.append(OpenItem(line, key, line.debit - line.credit, left, group.key))
            lettered.pop(key, None)  # still (partly) open
    guessed_lines.sort()
    if guessed_lines:
        problems.append(
            Problem(
                filename,
                guessed_lines[0],
                "CompAuxNum",
                f"{len(guessed_lines)} ligne(s) sur un compte collectif sans compte auxiliaire : "
                "clients devinés d’après le libellé des écritures, à vérifier",
            )
        )
    if one_sided:
        problems.append(
            Problem(
                filename,
                None,
                "EcritureLet",
                f"{one_sided} lettrage(s) sans contrepartie dans le fichier (solde {one_sided_amount}) : "
                "lettrés avec des écritures absentes du FEC, considérés comme soldés",
            )
        )
    listed = sorted(customers.values(), key=lambda c: (c.source, c.code))
    for customer in listed:
        customer.open_items.sort(key=lambda i: i.line.line_no)
    open_lines = sum(len(c.open_items) for c in listed)
    open_amount = sum((c.balance for c in listed), ZERO)
    if stats is not None:
        sales |= stats.sales_journals
        journals = {**stats.journals, **journals}
    opening = {code for code, label in journals.items() if is_opening_journal(code, label)}
    return Receivables(listed, problems, customer_lines, open_lines, open_amount, sales, opening, lettered, partial,
                       partial_groups, partial_open, one_sided, one_sided_amount, collective)


def _residuals(group: LetterGroup) -> Iterator[tuple[FecLine, str, CustomerAccount, Decimal]]:
    """What stays open of a partially lettered group: the side that exceeds is settled
    by the other side oldest line first, so its newest lines keep the residual."""
    sign = 1 if group.net > 0 else -1
    long_side = [(line, key, customer) for line, key, customer in group.lines if (line.debit - line.credit) * sign > 0]
    other = sum((abs(line.debit - line.credit) for line, _k, _c in group.lines
                 if (line.debit - line.credit) * sign < 0), ZERO)
    long_side.sort(key=lambda t: (t[0].issued, t[0].line_no))
    for line, key, customer in long_side:
        size = abs(line.debit - line.credit)
        used = min(size, other)
        other -= used
        if size > used:
            yield line, key, customer, (size - used) * sign
