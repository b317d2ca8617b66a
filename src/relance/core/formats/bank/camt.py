"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification), versions 02 to 08.

The namespace version is ignored once recognised: the elements read here did not change
between 02 and 08, except parties (``Dbtr/Nm`` in 02, ``Dbtr/Pty/Nm`` from 08) which
are both accepted. XML is parsed with defusedxml: any DTD (hence any entity, external
or not) is refused. One BankLine per transaction detail (``TxDtls``) when an entry
batches several, else one per entry; entries that are not booked (PDNG, INFO) are skipped.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml.ElementTree import fromstring

from ..problems import Problem
from .model import BankFormatError, BankLine, Direction, Statement, StatementResult, as_iban, parse_decimal

_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d\d)")
_CONTAINERS = {"BkToCstmrStmt": "Stmt", "BkToCstmrDbtCdtNtfctn": "Ntfctn", "BkToCstmrAcctRpt": "Rpt"}
_OPENING = ("OPBD", "PRCD", "OPAV")
_CLOSING = ("CLBD", "CLAV")
MAX_ENTRIES = 200_000


def _strip_namespaces(root: Element) -> str:
    namespace = ""
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            ns, _, local = el.tag[1:].partition("}")
            namespace = namespace or ns
            el.tag = local
    return namespace


def _text(el: Element | None, path: str) -> str:
    if el is None:
        return ""
    found = el.find(path)
    return (found.text or "").strip() if found is not None else ""


def _date(el: Element | None, path: str) -> date | None:
    """``path/Dt`` (date) or ``path/DtTm`` (date-time, the date part is kept)."""
    raw = _text(el, f"{path}/Dt") or _text(el, f"{path}/DtTm")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise ValueError(f"date illisible : {raw[:30]!r}") from exc


def _amount(el: Element | None, path: str) -> tuple[Decimal, str] | None:
    found = el.find(path) if el is not None else None
    if found is None:
        return None
    value = parse_decimal(found.text or "")
    if value < 0 or "," in (found.text or ""):
        raise ValueError(f"montant illisible : {(found.text or '')[:40]!r}")
    return value, found.get("Ccy", "")


def _direction(code: str) -> Direction:
    if code == "CRDT":
        return "credit"
    if code == "DBIT":
        return "debit"
    raise ValueError(f"sens CdtDbtInd inconnu : {code[:10]!r}")


def _party(tx: Element, role: str) -> tuple[str, str]:
    parties = tx.find("RltdPties")
    if parties is None:
        return "", ""
    name = ""
    for path in (f"{role}/Nm", f"{role}/Pty/Nm", f"Ultmt{role}/Nm", f"Ultmt{role}/Pty/Nm"):
        name = _text(parties, path)
        if name:
            break
    account = _text(parties, f"{role}Acct/Id/IBAN") or _text(parties, f"{role}Acct/Id/Othr/Id")
    return name, account


def _structured_reference(tx: Element) -> str:
    refs = [(_text(s, "CdtrRefInf/Tp/CdOrPrtry/Cd"), _text(s, "CdtrRefInf/Ref")) for s in tx.findall("RmtInf/Strd")]
    refs = [r for r in refs if r[1]]
    for code, ref in refs:
        if code == "SCOR":
            return ref
    return refs[0][1] if refs else ""


def _balance(stmt: Element, codes: tuple[str, ...]) -> Decimal | None:
    for wanted in codes:
        for bal in stmt.findall("Bal"):
            code = _text(bal, "Tp/CdOrPrtry/Cd") or _text(bal, "Tp/CdOrPrtry/Prtry")
            if code == wanted:
                found = _amount(bal, "Amt")
                if found is None:
                    raise ValueError(f"solde {code} sans montant")
                return found[0] if _direction(_text(bal, "CdtDbtInd") or "CRDT") == "credit" else -found[0]
    return None


def _lines(entry: Element, where: str, default_currency: str) -> list[BankLine]:
    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    if status in ("PDNG", "INFO", "FUTR"):
        return []
    booked = _amount(entry, "Amt")
    if booked is None:
        raise ValueError("écriture sans montant (Amt)")
    entry_direction = _direction(_text(entry, "CdtDbtInd"))
    booking, value = _date(entry, "BookgDt"), _date(entry, "ValDt")
    entry_ref = _text(entry, "AcctSvcrRef")
    details = entry.findall("NtryDtls/TxDtls")
    if not details:
        remittance = _text(entry, "AddtlNtryInf")
        return [
            BankLine(
                booking,
                value,
                booked[0],
                entry_direction,
                booked[1] or default_currency,
                remittance=remittance,
                bank_reference=entry_ref,
                line_no_or_element=where,
            )
        ]
    lines = []
    for k, tx in enumerate(details, 1):
        amount, currency, direction = booked[0], booked[1], entry_direction
        if len(details) > 1:
            own = _amount(tx, "Amt") or _amount(tx, "AmtDtls/TxAmt/Amt")
            if own is not None:
                amount, currency = own
            if _text(tx, "CdtDbtInd"):
                direction = _direction(_text(tx, "CdtDbtInd"))
        name, account = _party(tx, "Dbtr" if direction == "credit" else "Cdtr")
        end_to_end = _text(tx, "Refs/EndToEndId")
        ustrd = " ".join(u.text.strip() for u in tx.findall("RmtInf/Ustrd") if u.text and u.text.strip())
        remittance = ustrd or _text(tx, "AddtlTxInf") or _text(entry, "AddtlNtryInf")
        lines.append(
            BankLine(
                booking,
                value,
                amount,
                direction,
                currency or default_currency,
                counterparty_name=name,
                counterparty_iban=as_iban(account) or account,
                remittance=remittance,
                structured_reference=_structured_reference(tx),
                end_to_end_id="" if end_to_end.upper() == "NOTPROVIDED" else end_to_end,
                bank_reference=_text(tx, "Refs/AcctSvcrRef") or entry_ref,
                line_no_or_element=f"{where}/TxDtls[{k}]" if len(details) > 1 else where,
            )
        )
    return lines


# Expat's error codes (``xml.parsers.expat.errors``) -> what a person can do about it; its own
# messages are English.
_EXPAT_ERRORS: dict[int, str] = {
    2: "syntaxe XML invalide",
    3: "fichier vide ou tronqué : aucun élément XML complet",
    4: "caractère ou balise invalide (un « & » ou un « < » non échappé, ou un fichier qui n’est pas du XML)",
    5: "balise non terminée : fichier tronqué",
    6: "caractère coupé en fin de fichier : fichier tronqué",
    7: "balise fermée par une autre : fichier abîmé ou mal construit",
    8: "attribut répété dans la même balise",
    9: "contenu après la fin du document : fichier abîmé ou deux relevés collés",
    11: "entité non définie (un « & » non échappé : il s’écrit « &amp; »)",
    18: "encodage déclaré inconnu",
    19: "octets invalides pour l’encodage déclaré (le fichier n’est pas en UTF-8 comme il le dit ?)",
    27: "préfixe d’espace de noms non déclaré",
}


def expat_error_text(exc: ParseError) -> str:
    """A French description of an expat syntax error, with its column when known."""
    position = getattr(exc, "position", None)
    column = f", colonne {position[1] + 1}" if isinstance(position, tuple) and len(position) == 2 else ""
    text = _EXPAT_ERRORS.get(getattr(exc, "code", 0) or 0, "syntaxe XML invalide")
    return f"XML mal formé ou tronqué{column} : {text}"


def parse(raw: bytes, filename: str) -> StatementResult:
    result = StatementResult(format="camt")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise BankFormatError(Problem(filename, None, None, "XML refusé : déclaration DOCTYPE/DTD interdite")) from None
    except defusedxml.EntitiesForbidden:
        raise BankFormatError(Problem(filename, None, None, "XML refusé : entités interdites")) from None
    except defusedxml.DefusedXmlException as exc:
        raise BankFormatError(Problem(filename, None, None, f"XML refusé : {exc}")) from None
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise BankFormatError(Problem(filename, line, None, expat_error_text(exc))) from None
    except (ValueError, UnicodeError, LookupError):
        raise BankFormatError(Problem(filename, None, None, (
            "XML illisible : encodage ou contenu invalide (le relevé doit être un XML en UTF-8)"))) from None
    namespace = _strip_namespaces(root)
    match = _NAMESPACE.fullmatch(namespace)
    if root.tag != "Document" or not match:
        raise BankFormatError(
            Problem(filename, None, None, f"document ISO 20022 camt non reconnu (espace de noms {namespace[:80]!r})")
        )
    if not "02" <= match.group(2) <= "08":
        result.problems.append(
            Problem(
                filename,
                None,
                None,
                f"version camt.{match.group(1)}.001.{match.group(2)} non prise en charge (02 à 08)",
            )
        )
        return result
    count = 0
    for container_tag, item_tag in _CONTAINERS.items():
        for container in root.findall(container_tag):
            for i, stmt in enumerate(container.findall(item_tag), 1):
                where = f"{container_tag}/{item_tag}[{i}]"
                account = _text(stmt, "Acct/Id/IBAN") or _text(stmt, "Acct/Id/Othr/Id")
                currency = _text(stmt, "Acct/Ccy")
                try:
                    statement = Statement(
                        as_iban(account), account, currency, _balance(stmt, _OPENING), _balance(stmt, _CLOSING)
                    )
                except ValueError as exc:
                    result.problems.append(Problem(filename, None, f"{where}/Bal", str(exc)))
                    statement = Statement(as_iban(account), account, currency)
                for j, entry in enumerate(stmt.findall("Ntry"), 1):
                    count += 1
                    if count > MAX_ENTRIES:
                        result.problems.append(Problem(filename, None, where, f"plus de {MAX_ENTRIES} écritures"))
                        return result
                    try:
                        statement.lines.extend(_lines(entry, f"{where}/Ntry[{j}]", currency))
                    except ValueError as exc:
                        result.problems.append(Problem(filename, None, f"{where}/Ntry[{j}]", str(exc)))
                if not statement.currency and statement.lines:
                    statement.currency = statement.lines[0].currency
                result.statements.append(statement)
    if not result.statements:
        result.problems.append(Problem(filename, None, None, "aucun relevé (Stmt/Ntfctn) dans le document camt"))
    return result
