"""OFX bank and card statements: 1.x (SGML, leaf tags left open) and 2.x (XML).

Read by hand with one tolerant tokenizer for both flavours: a leaf element is closed by
the next tag when it holds text. Linear in its input whatever the file (issue #11): the tag pattern
cannot backtrack, a closing tag finds its opening through an index of the open elements by name, text
is gathered in lists, and a statement's transactions are searched without entering nested statements.
ofxtools was not adopted: it is GPL-3.0-only (not
"or later"), validates strictly and rejects files that French banks actually emit.
A DOCTYPE or ENTITY declaration is refused outright (no entity is ever expanded).
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field
from datetime import date

from ..decoding import UTF8_THEN_WINDOWS
from ..problems import Problem
from .model import (
    BankFormatError,
    BankLine,
    Statement,
    StatementResult,
    as_iban,
    decode_text,
    parse_decimal,
)

# After the name, either ">" or a character that cannot continue the name: no two ways to split a run of
# letters, so a "<" followed by a megabyte without ">" costs one scan, not a quadratic backtracking.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_.]*)(?:[^<>A-Za-z0-9_.][^<>]*)?>")
_CHARSET = re.compile(r"(?:CHARSET:\s*|encoding=[\"'])([A-Za-z0-9_-]+)", re.IGNORECASE)
MAX_NODES = 2_000_000
MAX_TAG_PROBLEMS = 100
_STATEMENTS = frozenset({"STMTRS", "CCSTMTRS"})


@dataclass
class _Node:
    name: str
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # the text while reading (joined once at the end)

    def find(self, *path: str) -> _Node | None:
        node: _Node | None = self
        for name in path:
            if node is None:
                return None
            node = next((c for c in node.children if c.name == name), None)
        return node

    def value(self, *path: str) -> str:
        node = self.find(*path)
        return node.text.strip() if node is not None else ""

    def iter(self, name: str, stop: frozenset[str] = frozenset()) -> list[_Node]:
        """The elements called ``name`` below this one, in document order; elements named in ``stop``
        (below this one) are not entered."""
        found, todo = [], [self]
        while todo:
            node = todo.pop()
            if node.name == name:
                found.append(node)
            if node is self or node.name not in stop:
                todo.extend(reversed(node.children))
        return found


def _encodings(raw: bytes) -> tuple[str, ...]:
    """Windows-1252 first when the header declares it (an OFX 1 ``CHARSET:1252``)."""
    head = raw[:1024].decode("ascii", errors="replace")
    declared = _CHARSET.search(head)
    if declared and declared.group(1).upper() in ("1252", "CP1252", "WINDOWS-1252", "ISO-8859-1", "LATIN1", "8859-1"):
        return ("cp1252", *UTF8_THEN_WINDOWS)
    return UTF8_THEN_WINDOWS


def _tree(text: str, filename: str, problems: list[Problem]) -> _Node:
    start = text.upper().find("<OFX>")
    if start < 0:
        raise BankFormatError(Problem(filename, None, None, "balise <OFX> introuvable"))
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(pos: int) -> int:
        return bisect.bisect_right(newlines, pos) + 1

    root = _Node("", 0)
    stack = [root]
    depths: dict[str, list[int]] = {}  # name -> positions in ``stack`` of the open elements of that name
    every: list[_Node] = []

    def pop_to(depth: int) -> None:
        while len(stack) > depth:
            depths[stack.pop().name].pop()

    pos, count, tag_problems = start, 0, 0
    for match in _TAG.finditer(text, start):
        chunk = text[pos : match.start()]
        pos = match.end()
        if chunk.strip():
            stack[-1].parts.append(html.unescape(chunk.strip()))
        closing, name = match.group(1) == "/", match.group(2).upper()
        top = stack[-1]
        if top.parts and not top.children and len(stack) > 1 and not (closing and top.name == name):
            pop_to(len(stack) - 1)  # SGML leaf left open
        if closing:
            open_at = depths.get(name)
            if open_at:
                pop_to(open_at[-1])
            else:
                tag_problems += 1
                if tag_problems <= MAX_TAG_PROBLEMS:
                    problems.append(
                        Problem(filename, line_of(match.start()), name, f"balise fermante </{name}> sans ouverture")
                    )
            continue
        count += 1
        if count > MAX_NODES:
            raise BankFormatError(Problem(filename, line_of(match.start()), None, "trop d'éléments OFX"))
        node = _Node(name, line_of(match.start()))
        stack[-1].children.append(node)
        depths.setdefault(name, []).append(len(stack))
        stack.append(node)
        every.append(node)
    if tag_problems > MAX_TAG_PROBLEMS:
        problems.append(Problem(filename, None, None,
                                f"… et {tag_problems - MAX_TAG_PROBLEMS} autres balises fermantes sans ouverture"))
    if text[pos:].strip() and len(stack) > 1:
        stack[-1].parts.append(html.unescape(text[pos:].strip()))
    for each in every:
        each.text, each.parts = "".join(each.parts), []
    unclosed = [n for n in stack[1:] if n.children or not n.text]
    if unclosed:
        problems.append(
            Problem(
                filename, unclosed[-1].line, unclosed[0].name, f"fichier tronqué : <{unclosed[-1].name}> jamais fermé"
            )
        )
    return root


def _date(text: str) -> date | None:
    if not text:
        return None
    if not re.match(r"\d{8}", text):
        raise ValueError(f"date illisible : {text[:30]!r}")
    return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))


def _statement(rs: _Node, filename: str, problems: list[Problem]) -> Statement:
    account_node = rs.find("BANKACCTFROM") or rs.find("CCACCTFROM")
    account = account_node.value("ACCTID") if account_node is not None else ""
    currency = rs.value("CURDEF")
    closing = None
    if rs.value("LEDGERBAL", "BALAMT"):
        try:
            closing = parse_decimal(rs.value("LEDGERBAL", "BALAMT"))
        except ValueError as exc:
            problems.append(Problem(filename, rs.find("LEDGERBAL", "BALAMT").line, "BALAMT", str(exc)))  # type: ignore[union-attr]
    statement = Statement(as_iban(account), account, currency, None, closing)
    tranlist = rs.find("BANKTRANLIST")
    for trn in tranlist.iter("STMTTRN", stop=_STATEMENTS) if tranlist is not None else []:
        try:
            amount = parse_decimal(trn.value("TRNAMT"))
            booking = _date(trn.value("DTPOSTED"))
            value = _date(trn.value("DTAVAIL"))
        except ValueError as exc:
            problems.append(Problem(filename, trn.line, "STMTTRN", str(exc)))
            continue
        name = trn.value("NAME") or trn.value("PAYEE", "NAME")
        other = trn.value("BANKACCTTO", "ACCTID")
        statement.lines.append(
            BankLine(
                booking,
                value,
                abs(amount),
                "credit" if amount >= 0 else "debit",
                trn.value("CURRENCY", "CURSYM") or trn.value("ORIGCURRENCY", "CURSYM") or currency,
                counterparty_name=name,
                counterparty_iban=as_iban(other),
                remittance=trn.value("MEMO"),
                bank_reference=trn.value("FITID") or trn.value("REFNUM") or trn.value("CHECKNUM"),
                line_no_or_element=trn.line,
            )
        )
    return statement


def parse(raw: bytes, filename: str) -> StatementResult:
    text = decode_text(raw, filename, _encodings(raw))
    upper = text[:65536].upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper or "<!ENTITY" in text.upper():
        raise BankFormatError(Problem(filename, None, None, "OFX refusé : déclaration DOCTYPE/ENTITY interdite"))
    result = StatementResult(format="ofx")
    root = _tree(text, filename, result.problems)
    for tag in ("STMTRS", "CCSTMTRS"):
        for rs in root.iter(tag):
            result.statements.append(_statement(rs, filename, result.problems))
    if not result.statements:
        result.problems.append(Problem(filename, None, None, "aucun relevé (STMTRS) dans le fichier OFX"))
    return result
