"""Read a FEC (fichier des écritures comptables, LPF art. A47 A-1) and extract
the open customer items from it.

The file is read line by line (bounded memory): only the running totals of each
entry (journal + EcritureNum) are kept to check that it balances. Accepted
variants, all seen in real exports:

* separator TAB or ``|``, detected from the header line;
* UTF-8 with or without BOM, else ISO-8859-15 / Windows-1252 (decided per line);
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO, TypeVar

from .problems import Problem

MAX_BYTES = 500 * 1024 * 1024
MAX_LINES = 5_000_000
MAX_LINE_CHARS = 10_000
MAX_UNBALANCED_REPORTED = 50

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


@dataclass(frozen=True)
class FecLine:
    line_no: int
    journal: str
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


def _decode(raw: bytes, stats: FecStats) -> str:
    for encoding in ("utf-8", "cp1252", "iso-8859-15"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not raw.isascii():
            stats.encodings.add(encoding)
        return text
    raise AssertionError("unreachable: ISO-8859-15 decodes every byte")  # pragma: no cover


_AMOUNT = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def parse_fec_amount(text: str) -> Decimal:
    """``+000000069,40`` → 69.40; empty → 0. Raises ValueError otherwise."""
    s = text.replace(" ", "").replace("\u00a0", "")
    if not s:
        return ZERO
    if not _AMOUNT.fullmatch(s):
        raise ValueError(f"montant illisible : {text.strip()!r}")
    try:
        return Decimal(s.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regex
        raise ValueError(f"montant illisible : {text.strip()!r}") from exc


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
                return date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError as exc:
                raise ValueError(f"date impossible : {s!r}") from exc
    raise ValueError(f"date illisible (attendu AAAAMMJJ) : {s!r}")


def _sens(text: str) -> int:
    s = text.strip().upper()
    if s in ("D", "+1", "1", "+"):
        return 1
    if s in ("C", "-1", "-"):
        return -1
    raise ValueError(f"sens illisible (attendu D ou C) : {text.strip()!r}")


_K = TypeVar("_K")


def _accumulate(table: dict[_K, list[Decimal]], key: _K, line: FecLine) -> None:
    sums = table.get(key)
    if sums is None:
        table[key] = [line.debit, line.credit]
    else:
        sums[0] += line.debit
        sums[1] += line.credit


class _Entries:
    """Running Σdebit / Σcredit per entry (journal, EcritureNum).

    Some software (Agrigest) numbers entries across the whole file and puts the
    counterpart of a purchase in another journal (A n° 1 against OD n° 1): an
    entry that does not balance within its journal is accepted when all lines
    sharing its EcritureNum balance together (counted in ``cross_journal``).
    """

    def __init__(self) -> None:
        self.sums: dict[tuple[str, str], list[Decimal]] = {}
        self.by_num: dict[str, list[Decimal]] = {}
        self.first_line: dict[tuple[str, str], int] = {}

    def add(self, line: FecLine) -> None:
        key = (line.journal, line.entry_num)
        _accumulate(self.sums, key, line)
        _accumulate(self.by_num, line.entry_num, line)
        self.first_line.setdefault(key, line.line_no)

    def unbalanced(self) -> tuple[list[tuple[tuple[str, str], list[Decimal]]], int]:
        """(entries that do not balance, entries balanced only across journals)."""
        bad = []
        cross = 0
        for key, (debit, credit) in self.sums.items():
            if debit == credit:
                continue
            num_debit, num_credit = self.by_num[key[1]]
            if num_debit == num_credit:
                cross += 1
            else:
                bad.append((key, [debit, credit]))
        return bad, cross

    def problems(self, filename: str, unbalanced: list[tuple[tuple[str, str], list[Decimal]]]) -> list[Problem]:
        out: list[Problem] = []
        for (journal, num), (debit, credit) in unbalanced[:MAX_UNBALANCED_REPORTED]:
            out.append(
                Problem(
                    filename,
                    self.first_line[(journal, num)],
                    "EcritureNum",
                    f"écriture non équilibrée : journal {journal}, n° {num} — "
                    f"débit {debit} ≠ crédit {credit} (écart {debit - credit})",
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


def _iter_fec(
    raw_lines: Iterable[bytes],
    filename: str,
    problems: list[Problem],
    stats: FecStats,
    max_bytes: int,
    max_lines: int,
) -> Iterator[FecLine]:
    entries = _Entries()
    columns: dict[str, int] = {}
    n_fields = 0
    sep = ""
    read = 0
    line_no = 0
    for raw in raw_lines:
        line_no += 1
        read += len(raw)
        if read > max_bytes:
            problems.append(Problem(filename, line_no, None, f"fichier trop gros (plus de {max_bytes} octets)"))
            return
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        text = _decode(raw, stats).rstrip("\r\n")
        if line_no == 1:
            header = _parse_header(text, filename, problems, stats)
            if header is None:
                return
            sep, columns, n_fields = header
            continue
        if not text.strip():
            continue
        if len(text) > MAX_LINE_CHARS:
            problems.append(Problem(filename, line_no, None, f"ligne trop longue (plus de {MAX_LINE_CHARS} caractères)"))
            continue
        if stats.lines >= max_lines:
            problems.append(Problem(filename, line_no, None, f"plus de {max_lines} lignes : lecture arrêtée"))
            return
        cells = text.split(sep)
        if len(cells) == n_fields + 1 and not cells[-1].strip():
            cells.pop()  # a trailing separator
        if len(cells) != n_fields:
            what = "incomplète" if len(cells) < n_fields else "trop longue"
            hint = " — fichier tronqué ?" if len(cells) < n_fields else ""
            problems.append(
                Problem(filename, line_no, None, f"ligne {what} : {len(cells)} champs au lieu de {n_fields}{hint}")
            )
            continue
        line = _parse_line(cells, columns, line_no, filename, problems)
        if line is None:
            continue
        stats.lines += 1
        stats.total_debit += line.debit
        stats.total_credit += line.credit
        entries.add(line)
        yield line
    if line_no == 0:
        problems.append(Problem(filename, None, None, "fichier vide"))
        return
    stats.entries = len(entries.sums)
    unbalanced, stats.cross_journal_entries = entries.unbalanced()
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


def _parse_line(
    cells: list[str], columns: dict[str, int], line_no: int, filename: str, problems: list[Problem]
) -> FecLine | None:
    def get(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip().strip('"').strip() if index is not None else ""

    errors = len(problems)
    for name in _REQUIRED:
        if not get(name):
            problems.append(Problem(filename, line_no, name, "champ obligatoire vide"))

    def to_date(name: str) -> date | None:
        try:
            return parse_fec_date(get(name))
        except ValueError as exc:
            problems.append(Problem(filename, line_no, name, str(exc)))
            return None

    def to_amount(name: str) -> Decimal:
        try:
            return parse_fec_amount(get(name))
        except ValueError as exc:
            problems.append(Problem(filename, line_no, name, str(exc)))
            return ZERO

    entry_date = to_date("EcritureDate")
    piece_date = to_date("PieceDate")
    letter_date = to_date("DateLet")
    if "Debit" in columns and "Credit" in columns:
        debit, credit = to_amount("Debit"), to_amount("Credit")
    else:
        amount = to_amount("Montant")
        try:
            sign = _sens(get("Sens"))
        except ValueError as exc:
            problems.append(Problem(filename, line_no, "Sens", str(exc)))
            sign = 1
        if amount < 0:
            amount, sign = -amount, -sign
        debit, credit = (amount, ZERO) if sign > 0 else (ZERO, amount)
    if len(problems) > errors or entry_date is None:
        return None
    return FecLine(
        line_no=line_no,
        journal=get("JournalCode"),
        entry_num=get("EcritureNum"),
        entry_date=entry_date,
        account=get("CompteNum"),
        account_label=get("CompteLib"),
        aux_num=get("CompAuxNum"),
        aux_label=get("CompAuxLib"),
        piece_ref=get("PieceRef"),
        piece_date=piece_date,
        label=get("EcritureLib"),
        debit=debit,
        credit=credit,
        letter=get("EcritureLet"),
        letter_date=letter_date,
    )


def parse_fec(
    source: Path | str | bytes | BinaryIO,
    filename: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_lines: int = MAX_LINES,
    stream: bool = False,
) -> FecResult:
    """Parse a FEC given as a path, bytes or a binary file object.

    Raises :class:`FecError` only when the file is too big before reading; every
    other defect becomes a :class:`Problem` (line numbers count from 1, header
    included). Lines with a problem are left out of ``lines``.
    """
    if filename is None:
        filename = Path(source).name if isinstance(source, (str, Path)) else "FEC"
    problems: list[Problem] = []
    stats = FecStats()
    raw_lines = _open_binary(source, max_bytes, filename)
    iterator = _iter_fec(raw_lines, filename, problems, stats, max_bytes, max_lines)
    if stream:
        return FecResult(iterator, problems, stats)
    return FecResult(list(iterator), problems, stats)


# --------------------------------------------------------------------------- receivables


@dataclass
class CustomerAccount:
    code: str
    name: str
    source: str  # "aux" (CompAuxNum), "account" (individual 411… account) or "label" (guessed)
    open_items: list[FecLine] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        return sum((i.debit - i.credit for i in self.open_items), ZERO)


@dataclass
class Receivables:
    customers: list[CustomerAccount]
    problems: list[Problem]
    customer_lines: int
    open_lines: int
    open_amount: Decimal

    @property
    def customer_count(self) -> int:
        return len(self.customers)

    @property
    def open_invoices(self) -> list[FecLine]:
        return [i for c in self.customers for i in c.open_items if i.debit > i.credit]

    @property
    def open_credits(self) -> list[FecLine]:
        """Unapplied payments and credit notes."""
        return [i for c in self.customers for i in c.open_items if i.credit > i.debit]


_LABEL_NOISE = re.compile(
    r"\b(fa|fac|fact|facture|factures|avoir|av|reglt|rglt|reglement|règlement|regl|vir|virement|chq|cheque|chèque|"
    r"prlv|prelevement|prélèvement|n°|no|num|ref|client|clients)\b|[0-9]+|[^\w\s]",
    re.IGNORECASE,
)


def _name_from_label(label: str) -> str:
    words = _LABEL_NOISE.sub(" ", label).split()
    return " ".join(words).upper() or "(SANS LIBELLÉ)"


def _is_collective(account: str, prefix: str) -> bool:
    rest = account[len(prefix) :]
    return not rest.strip("0")


def receivables(fec_lines: Iterable[FecLine], customer_prefix: str = "411", filename: str = "FEC") -> Receivables:
    """Customers and their open (unlettered) items from FEC lines.

    A customer is the sub-ledger account (CompAuxNum/CompAuxLib); failing that the
    individual ``411…`` account; failing that (only a collective ``41100000``
    account) a name guessed from the entry labels, with a warning.
    """
    customers: dict[tuple[str, str], CustomerAccount] = {}
    problems: list[Problem] = []
    customer_lines = 0
    guessed_lines: list[int] = []
    for line in fec_lines:
        if not line.account.startswith(customer_prefix):
            continue
        customer_lines += 1
        if line.aux_num:
            key, name = ("aux", line.aux_num), line.aux_label or line.aux_num
        elif not _is_collective(line.account, customer_prefix):
            key, name = ("account", line.account), line.account_label or line.account
        else:
            name = _name_from_label(line.label)
            key = ("label", name)
            guessed_lines.append(line.line_no)
        customer = customers.get(key)
        if customer is None:
            customer = customers[key] = CustomerAccount(key[1], name, key[0])
        if not line.letter:
            customer.open_items.append(line)
    if guessed_lines:
        problems.append(
            Problem(
                filename,
                guessed_lines[0],
                "CompAuxNum",
                f"{len(guessed_lines)} ligne(s) sur un compte collectif sans compte auxiliaire : "
                "clients devinés d'après le libellé des écritures, à vérifier",
            )
        )
    listed = sorted(customers.values(), key=lambda c: (c.source, c.code))
    open_lines = sum(len(c.open_items) for c in listed)
    open_amount = sum((c.balance for c in listed), ZERO)
    return Receivables(listed, problems, customer_lines, open_lines, open_amount)
