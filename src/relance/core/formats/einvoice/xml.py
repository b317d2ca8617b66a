"""Hardened XML parsing and the small helpers the CII and UBL readers share.

lxml with a parser that resolves no entity, loads no DTD, never touches the network and keeps
libxml2's limits (``huge_tree=False``: depth, text size, entity amplification). On top of it,
any DOCTYPE is refused outright — an e-invoice never needs one — so that neither an external
entity (XXE) nor an entity-expansion bomb is ever looked at.
"""

from __future__ import annotations

import logging
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
log = logging.getLogger("relance.imports")
MAX_AMOUNT = Decimal("999999999999.99")  # what the ledger stores (14 digits, 2 decimals)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
        remove_comments=True, remove_pis=True, collect_ids=False,
    )


def parse_xml(raw: bytes, filename: str) -> etree._Element:
    """The root element, or EinvoiceFormatError naming the file (and the line when known), in
    French; libxml2's own (English) message goes to the log only."""
    if _DOCTYPE.search(raw[:1_000_000]):
        raise EinvoiceFormatError(Problem(filename, None, None, (
            "XML refusé : déclaration DOCTYPE ou ENTITY interdite (protection contre les entités externes et "
            "les bombes d’expansion d’entités)")))
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        log.info("%s : XML illisible (lxml, code %s) : %s", filename, getattr(exc, "code", None), message)
        if "amplification" in message.lower() or exc.code == _ENTITY_LOOP:
            raise EinvoiceFormatError(Problem(filename, line, None, "XML refusé : entités interdites")) from None
        raise EinvoiceFormatError(Problem(filename, line, None, xml_error_text(exc))) from None
    except (ValueError, LookupError, UnicodeError) as exc:
        log.info("%s : XML illisible : %r", filename, exc)
        raise EinvoiceFormatError(Problem(filename, None, None, (
            "XML illisible : encodage ou contenu invalide (le fichier doit être un XML en UTF-8)"))) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        # e.g. a UTF-16 document, whose DOCTYPE the byte scan above cannot see
        raise EinvoiceFormatError(Problem(filename, None, None, (
            "XML refusé : déclaration DOCTYPE ou ENTITY interdite (protection contre les entités externes et "
            "les bombes d’expansion d’entités)")))
    return root


# libxml2's error codes (xmlParserErrors, stable across versions) -> what a person can do about it
_UNDECLARED_ENTITY = 26
_ENTITY_LOOP = 89
_XML_ERRORS: dict[int, str] = {
    4: "le fichier ne commence pas par une balise XML (« < » attendu) : ce n’est pas un document XML, ou il est vide",
    5: "contenu après la fin du document (l’élément racine est déjà fermé) : fichier abîmé ou deux documents collés",
    9: "caractère interdit dans un document XML (octet nul ou caractère de contrôle) : fichier abîmé",
    _UNDECLARED_ENTITY: "entité {name} non définie (un « & » non échappé : il s’écrit « &amp; »)",
    32: "encodage déclaré inconnu",
    39: "valeur d’attribut sans guillemets",
    42: "attribut répété dans la même balise",
    62: "séquence « ]]> » interdite dans le texte",
    68: "nom de balise invalide (un « < » non échappé : il s’écrit « &lt; »)",
    73: "balise {name} non terminée (« > » manquant)",
    76: "balise {name} fermée par {other} : fichier abîmé ou mal construit",
    77: "fichier tronqué : la balise {name} n’est jamais fermée",
    81: "octets invalides pour l’encodage déclaré (le fichier n’est pas en UTF-8 comme il le dit ?)",
    201: "préfixe d’espace de noms {name} non déclaré",
}
_XML_ERROR_NAME = re.compile(
    r"(?:mismatch: |in tag |Entity '|prefix |Start Tag )([\w.:-]+)(?:'| line (\d+))?(?: and ([\w.:-]+))?")


def xml_error_text(exc: etree.XMLSyntaxError) -> str:
    """A French description of a syntax error of libxml2 (its own message is English)."""
    message = str(exc.msg if getattr(exc, "msg", None) else exc)
    found = _XML_ERROR_NAME.search(message)
    name = f"« {found.group(1)[:60]} »" if found else ""
    if found and found.group(2) and exc.code in (73, 76, 77):
        name += f" (ouverte ligne {found.group(2)})"
    other = f"« </{found.group(3)[:60]}> »" if found and found.group(3) else "une autre balise"
    text = _XML_ERRORS.get(exc.code, "syntaxe XML invalide")
    if exc.code == 68 and "EntityRef" in message:
        text = "« & » seul dans le texte (il s’écrit « &amp; »)"
    text = text.replace("{name}", name).replace("{other}", other)
    text = text.replace("  ", " ")
    position = getattr(exc, "position", None)
    column = f", colonne {position[1]}" if isinstance(position, tuple) and len(position) == 2 and position[1] else ""
    return f"XML mal formé ou tronqué{column} : {text}"


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
