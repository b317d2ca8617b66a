"""Hardened XML parsing and the small helpers the CII and UBL readers share.

lxml with a parser that resolves no entity, loads no DTD, never touches the network and keeps
libxml2's limits (``huge_tree=False``: depth, text size, entity amplification). On top of it,
any DOCTYPE is refused outright — an e-invoice never needs one — so that neither an external
entity (XXE) nor an entity-expansion bomb is ever looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from ..problems import Problem
from .model import EinvoiceFormatError

CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
UBL_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
ZUGFERD1_NS = "urn:ferd:CrossIndustryDocument:invoice:1p0"

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODED_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # what the ledger stores (14 digits, 2 decimals)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
        remove_comments=True, remove_pis=True, collect_ids=False,
    )


def parse_xml(raw: bytes, filename: str) -> etree._Element:
    """The root element, or EinvoiceFormatError naming the file (and the line when known)."""
    if _DOCTYPE.search(raw[:1_000_000]):
        raise EinvoiceFormatError(Problem(filename, None, None, (
            "XML refusé : déclaration DOCTYPE ou ENTITY interdite (protection contre les entités externes et "
            "les bombes d’expansion d’entités)")))
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        if "entity" in message.lower() or "amplification" in message.lower():
            raise EinvoiceFormatError(Problem(filename, line, None, f"XML refusé : entités interdites ({message[:200]})")) \
                from None
        raise EinvoiceFormatError(Problem(filename, line, None, f"XML mal formé ou tronqué : {message[:200]}")) from None
    except (ValueError, LookupError, UnicodeError) as exc:
        raise EinvoiceFormatError(Problem(filename, None, None, f"XML illisible : {str(exc)[:200]}")) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        # e.g. a UTF-16 document, whose DOCTYPE the byte scan above cannot see
        raise EinvoiceFormatError(Problem(filename, None, None, (
            "XML refusé : déclaration DOCTYPE ou ENTITY interdite (protection contre les entités externes et "
            "les bombes d’expansion d’entités)")))
    return root


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return etree.QName(tag).localname


def namespace(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return etree.QName(tag).namespace or ""


@dataclass(frozen=True)
class Node:
    """An element and the path that led to it (``rsm:ExchangedDocument/ram:ID``), for problems."""

    el: etree._Element
    path: str
    ns: dict[str, str]

    @property
    def line(self) -> int | None:
        line = self.el.sourceline
        return line if isinstance(line, int) and line > 0 else None

    def _join(self, rel: str) -> str:
        return f"{self.path}/{rel}" if self.path else rel

    def find(self, rel: str) -> Node | None:
        found = self.el.find(rel, namespaces=self.ns)
        return None if found is None else Node(found, self._join(rel), self.ns)

    def findall(self, rel: str) -> list[Node]:
        found = self.el.findall(rel, namespaces=self.ns)
        if len(found) == 1:
            return [Node(found[0], self._join(rel), self.ns)]
        return [Node(el, f"{self._join(rel)}[{i}]", self.ns) for i, el in enumerate(found, 1)]

    def text(self, rel: str = "") -> str:
        node = self.find(rel) if rel else self
        return node.value if node is not None else ""

    @property
    def value(self) -> str:
        return " ".join("".join(self.el.itertext()).split())

    def attr(self, name: str) -> str:
        return (self.el.get(name) or "").strip()

    def iter_texts(self, rel: str) -> Iterator[tuple[str, Node]]:
        for node in self.findall(rel):
            if node.value:
                yield node.value, node


class Collector:
    """Problems and warnings of one document, located by element path (and line for plain XML)."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def where(self, node: Node | None, path: str, bt: str = "") -> tuple[int | None, str]:
        label = f"{path} ({bt})" if bt else path
        return (node.line if node is not None else None), label

    def problem(self, node: Node | None, path: str, message: str, bt: str = "") -> None:
        line, label = self.where(node, path, bt)
        self.problems.append(Problem(self.filename, line, label, message))

    def warning(self, node: Node | None, path: str, message: str, bt: str = "") -> None:
        line, label = self.where(node, path, bt)
        self.warnings.append(Problem(self.filename, line, label, message))

    def amount(self, node: Node | None, bt: str, *, path: str = "", required: bool = False,
               label: str = "montant") -> Decimal | None:
        """A monetary amount: plain decimal with a dot (EN 16931), at most 2 decimals (rounded half-up
        with a warning otherwise), within what the ledger stores."""
        where_path = node.path if node is not None else path
        if node is None or not node.value:
            if required:
                self.problem(node, where_path, f"{label} absent", bt)
            return None
        raw = node.value
        if not re.fullmatch(r"[+-]?\d{1,15}(\.\d{1,10})?", raw):
            self.problem(node, where_path, f"{label} illisible : « {raw[:40]} »", bt)
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - guarded by the regex
            self.problem(node, where_path, f"{label} illisible : « {raw[:40]} »", bt)
            return None
        rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
        if rounded != value:
            self.warning(node, where_path, f"{label} « {raw} » arrondi au centime : {rounded}", bt)
        if abs(rounded) > MAX_AMOUNT:
            self.problem(node, where_path, f"{label} hors limites : « {raw[:40]} »", bt)
            return None
        return rounded

    def iso_date(self, node: Node | None, bt: str, *, path: str = "", required: bool = False,
                 label: str = "date") -> date | None:
        """``AAAA-MM-JJ`` (UBL)."""
        where_path = node.path if node is not None else path
        if node is None or not node.value:
            if required:
                self.problem(node, where_path, f"{label} absente", bt)
            return None
        raw = node.value
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            self.problem(node, where_path, f"{label} illisible : « {raw[:40]} » (AAAA-MM-JJ attendu)", bt)
            return None

    def cii_date(self, node: Node | None, bt: str, *, path: str = "", required: bool = False,
                 label: str = "date") -> date | None:
        """``udt:DateTimeString format="102"``: ``AAAAMMJJ``."""
        where_path = node.path if node is not None else path
        if node is None or not node.value:
            if required:
                self.problem(node, where_path, f"{label} absente", bt)
            return None
        raw = node.value
        fmt = node.attr("format") or "102"
        try:
            if fmt != "102" or not re.fullmatch(r"\d{8}", raw):
                raise ValueError(raw)
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError:
            self.problem(node, where_path, (
                f"{label} illisible : « {raw[:40]} » (format {fmt[:10]} ; AAAAMMJJ, format 102, attendu)"), bt)
            return None
