"""Read CSV and XLSX files into rows of text, each with its line number.

CSV: encoding UTF-8 (with or without BOM), else Windows-1252; separator ``;``,
``,`` or TAB detected from the header line. XLSX: every sheet, read-only mode.
Sizes are bounded so that a hostile file cannot exhaust memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .decoding import decode
from .problems import Problem

MAX_BYTES = 200 * 1024 * 1024
MAX_ROWS = 1_000_000
#: a table of receivables has a score of columns at most: a wider header is another kind of file (and
#: a header of hundreds of thousands of cells made every column lookup slow)
MAX_COLUMNS = 200
MAX_ROW_PROBLEMS = 100  # a shifted file would otherwise list every one of its lines
# A ZIP (an XLSX is one) says in its central directory how big each member is once decompressed, and
# Python's zipfile never inflates a member beyond that declared size: checking the declared sizes
# before anything is decompressed bounds what a « ZIP bomb » can cost. A member that inflates more
# than MAX_ZIP_RATIO times is refused too (ordinary spreadsheets and PDFs stay under 20; deflate cannot
# exceed about 1 030), when it is bigger than ZIP_RATIO_FROM once decompressed.
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_UNCOMPRESSED = 1024 * 1024 * 1024
MAX_ZIP_RATIO = 200
ZIP_RATIO_FROM = 1024 * 1024


@dataclass
class Sheet:
    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


class TabularError(Exception):
    def __init__(self, problem: Problem, more: list[Problem] | None = None):
        super().__init__(str(problem))
        self.problem = problem
        self.problems = [problem, *(more or [])]


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def read_csv(raw: bytes, filename: str) -> Sheet:
    if len(raw) > MAX_BYTES:
        raise TabularError(Problem(filename, None, None, f"fichier trop gros (plus de {MAX_BYTES // 1_048_576} Mo)"))
    text = decode(raw, filename, TabularError).rstrip("\x00")  # NUL padding at the end (some exports) is ignored
    nul = text.find("\x00")
    if nul >= 0:  # a NUL inside: not text (and PostgreSQL would refuse it in a column)
        raise TabularError(Problem(filename, text.count("\n", 0, nul) + 1, None,
                                   "caractère nul (octet 0) dans le fichier : ce n’est pas un texte CSV"))
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first))
    header: list[str] | None = None
    sheet = Sheet(Path(filename).stem, [])
    # a row must have as many fields as the header: « 1 553,84 » unquoted in a comma-separated
    # file is two fields, and reading them in place would store 1 553,00 € and a description « 84 »
    width = 0
    shifted: list[Problem] = []
    try:
        for row in reader:
            if header is None:
                if len(row) > MAX_COLUMNS and any(c.strip() for c in row[MAX_COLUMNS:]):
                    raise TabularError(Problem(filename, reader.line_num, None, (
                        f"plus de {MAX_COLUMNS} colonnes dans la ligne d’en-têtes : ce n’est pas un tableau de "
                        "clients, de factures ou de règlements")))
                header = [h.strip() for h in row[:MAX_COLUMNS]]
                sheet.header = header
                # trailing empty header cells (« a;b;c;; ») need no value
                width = max((i + 1 for i, h in enumerate(header) if h), default=0)
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(sheet.rows) >= MAX_ROWS:
                raise TabularError(Problem(filename, reader.line_num, None, f"plus de {MAX_ROWS} lignes"))
            line = reader.line_num
            extra = any(c.strip() for c in row[len(header):])
            if len(row) < width or extra:
                if len(shifted) < MAX_ROW_PROBLEMS:
                    shifted.append(Problem(filename, line, None, (
                        f"{len(row)} champ(s) au lieu des {len(header)} de la ligne d’en-têtes : une valeur "
                        "contient-elle le séparateur sans être entre guillemets (par exemple « 1 553,84 » "
                        "dans un fichier séparé par des virgules) ?")))
                continue
            sheet.rows.append((line, [c.strip() for c in row]))
    except csv.Error as exc:
        raise TabularError(Problem(filename, reader.line_num, None, f"CSV mal formé : {exc}")) from exc
    if header is None:
        raise TabularError(Problem(filename, None, None, "fichier vide"))
    if shifted:
        raise TabularError(shifted[0], shifted[1:])
    return sheet


def _mo(size: int) -> str:
    return f"{size / 1_048_576:,.0f}".replace(",", "\u202f") + " Mo"


def zip_bomb_problem(infos: Sequence[zipfile.ZipInfo], *, max_members: int | None = None,
                     max_bytes: int | None = None) -> str | None:
    """Why an archive must be refused before anything in it is decompressed (from the sizes its
    central directory declares), or ``None``. The reason is the user's, in French, to follow
    « … refusé avant lecture : »."""
    max_members = MAX_ZIP_MEMBERS if max_members is None else max_members
    max_bytes = MAX_ZIP_UNCOMPRESSED if max_bytes is None else max_bytes
    if len(infos) > max_members:
        return f"{len(infos)} fichiers dedans (au plus {max_members})"
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        return (f"{_mo(total)} une fois décompressé (au plus {_mo(max_bytes)}) — fichier piégé "
                "(« bombe de décompression ») ou bien trop gros")
    for info in infos:
        if info.file_size > ZIP_RATIO_FROM and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            ratio = f"{info.file_size // max(info.compress_size, 1):,}".replace(",", "\u202f")
            return (f"« {info.filename[:100]} » y occupe {ratio} fois moins de place qu’une fois "
                    f"décompressé (au plus {MAX_ZIP_RATIO}) — fichier piégé (« bombe de décompression »)")
    return None


def _check_xlsx_zip(raw: bytes, filename: str) -> None:
    """Refuse a hostile XLSX (too many members, too big once decompressed) before openpyxl opens it."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # not a ZIP at all: openpyxl's own refusal says so
    problem = zip_bomb_problem(infos)
    if problem is not None:
        raise TabularError(Problem(filename, None, None, f"classeur XLSX refusé avant lecture : {problem}"))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # openpyxl gives floats for numbers; go through repr to keep 0.1 as "0.1"
        return str(Decimal(repr(value)))
    return str(value).strip()


def read_xlsx(raw: bytes, filename: str) -> list[Sheet]:
    from openpyxl import load_workbook  # imported lazily: only XLSX needs it

    if len(raw) > MAX_BYTES:
        raise TabularError(Problem(filename, None, None, f"fichier trop gros (plus de {MAX_BYTES // 1_048_576} Mo)"))
    _check_xlsx_zip(raw, filename)
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file, with English messages
        raise TabularError(Problem(filename, None, None, (
            "classeur XLSX illisible : ce n’est pas un classeur Excel valide (fichier abîmé, ou d’un autre "
            "format renommé en .xlsx)"))) from exc
    try:
        return _xlsx_sheets(book, filename)
    except TabularError:
        raise
    except Exception as exc:  # a malformed sheet (bad cell reference, broken XML…) surfaces while reading
        raise TabularError(Problem(filename, None, None, (
            "classeur XLSX illisible : une feuille est mal formée (cellule ou XML invalide)"))) from exc
    finally:
        book.close()


def _xlsx_sheets(book: Any, filename: str) -> list[Sheet]:
    sheets: list[Sheet] = []
    for ws in book.worksheets:
        # one column more than allowed: a value there refuses the sheet; the declared width of a padded
        # sheet (up to 16 384 columns) is never walked, and nothing beyond the 201st column is read
        declared = ws.max_column  # the sheet's <dimension>, when it has one
        wide = isinstance(declared, int) and declared > MAX_COLUMNS + 1
        rows: Iterator[tuple[object, ...]] = (ws.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1) if wide
                                              else ws.iter_rows(values_only=True))
        sheet: Sheet | None = None
        for line, values in enumerate(rows, start=1):
            if line > MAX_ROWS + 1:  # empty rows count too: a sheet of millions of empty rows is refused, not walked
                raise TabularError(Problem(filename, line, None, f"plus de {MAX_ROWS} lignes"))
            if values.count(None) == len(values):
                continue  # an empty row, padded to the sheet's declared width (up to 16 384 cells): skipped at C speed
            if len(values) > MAX_COLUMNS and values[MAX_COLUMNS] is not None:
                raise TabularError(Problem(filename, line, None, f"plus de {MAX_COLUMNS} colonnes"))
            cells = [_cell_text(v) for v in values[:MAX_COLUMNS]]
            if sheet is None:
                if not any(cells):
                    continue
                sheet = Sheet(ws.title, cells)
                continue
            if any(cells):
                if len(sheet.rows) >= MAX_ROWS:
                    raise TabularError(Problem(filename, line, None, f"plus de {MAX_ROWS} lignes"))
                sheet.rows.append((line, cells))
        if sheet is not None:
            sheets.append(sheet)
    return sheets


def read_table_file(path: Path) -> list[Sheet]:
    raw = path.read_bytes()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(raw, path.name)
    return [read_csv(raw, path.name)]
