"""How the importer names what it owns, so that a re-import finds it again: the payments and credit
notes it creates (« FEC <key> » for an unapplied credit line, « Lettrage partiel FEC <n°> »,
« Lettrage FEC <n°> »), invoice numbers and customer codes read from a FEC, and the ISO 11649
payment references given at creation."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from relance.ledger.models import Customer, Invoice, Organisation

CREDIT_PREFIX = "FEC "  # + the key of an unapplied credit line


PARTIAL_PREFIX = "Lettrage partiel FEC "  # + the number of the invoice left partly open


SETTLED_PREFIX = "Lettrage FEC "  # + the number of the invoice closed by a re-import


PAYMENT, CREDIT_NOTE = "payment", "credit_note"


LABEL_CODE_PREFIX = "FEC-"


def credit_ident(key: str) -> str:
    """The reference (payment) or reason (credit note) of an unapplied credit line."""
    ident = CREDIT_PREFIX + key
    if len(ident) <= 100:  # Payment.reference
        return ident
    at = key.find("|L=")
    suffix = key[at:] if at >= 0 else ""
    return f"{CREDIT_PREFIX}#{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}{suffix}"


def _role(ident: str) -> str:
    """« C » unapplied credit, « P » partial lettering, « S » settlement of a closed invoice."""
    if ident.startswith(PARTIAL_PREFIX):
        return "P"
    if ident.startswith(SETTLED_PREFIX):
        return "S"
    return "C"


def _designated_piece(ident: str) -> str:
    """The PieceRef of an unapplied credit, read back from its identity ("" when hashed)."""
    parts = ident[len(CREDIT_PREFIX):].split("|")
    return parts[4].split("#")[0] if len(parts) >= 5 and not ident.startswith(CREDIT_PREFIX + "#") else ""


def _key_account(key: str) -> str:
    parts = key.split("|")
    return parts[2] if len(parts) > 2 else ""


_PLACEHOLDERS = {"na", "nc", "n/a", "sans", "neant", "néant", "aucun", "aucune", "divers", "report", "an"}


def _meaningful(ref: str) -> bool:
    """A PieceRef that can be an invoice number: not « x », « - », « 0 », « AN »…"""
    ref = ref.strip()
    if not ref or ref.lower() in _PLACEHOLDERS or not any(ch.isalnum() for ch in ref):
        return False
    if any(ch.isdigit() for ch in ref):
        return ref.strip("0") != ""
    return len(ref) >= 3 and len(set(ref.lower())) > 1


def _entry_ref(journal: str, entry: str) -> str:
    return entry if entry.upper().startswith(journal.upper()) else f"{journal}-{entry}"


def _rf(reference: str) -> str:
    """``make_rf_lenient(reference)`` of ``core.references`` (ISO 11649), or "" when it raises,
    in a tenth of the time (no second normalisation, no re-validation): the payload is the
    letters and digits, upper case, at most 21; the check digits make ``payload + "RF" +
    check`` ≡ 1 (mod 97), letters counting 10 to 35. A test holds the two equal."""
    if not reference.isascii():
        reference = unicodedata.normalize("NFKD", reference).encode("ascii", "ignore").decode("ascii")
    payload = _NOT_ALNUM.sub("", reference).upper()
    if not payload or len(payload) > 21:
        return ""
    check = 98 - int("".join(_RF_DIGITS[c] for c in payload + "RF00")) % 97
    return f"RF{check:02d}{payload}"


_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


_RF_DIGITS = {c: str(i) for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


_ROLES = {"C": "non lettré", "P": "lettrage partiel", "S": "lettrage"}


class _References:
    """ISO 11649 references given at creation, by the rule of ``services.references`` — from
    the invoice number, from « C » + the customer code — when that one is free; the others
    are left to ``assign_references`` (its fallback needs the database id)."""

    def __init__(self, organisation: Organisation) -> None:
        self.used = set(Invoice.objects.filter(organisation=organisation).exclude(payment_reference="")
                        .values_list("payment_reference", flat=True))
        self.used |= set(Customer.objects.filter(organisation=organisation).exclude(payment_reference="")
                         .values_list("payment_reference", flat=True))

    def pick(self, preferred: str) -> str:
        rf = _rf(preferred)
        if not rf or rf in self.used:
            return ""
        self.used.add(rf)
        return rf


def _label_code(name: str, taken: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Z0-9]+", "-", ascii_name.upper()).strip("-") or "SANS-LIBELLE"
    return _free((LABEL_CODE_PREFIX + slug)[:44], taken)


def _free(base: str, taken: set[str]) -> str:
    """``base``, or ``base/2``, ``base/3``… the first one not taken."""
    if base not in taken:
        return base
    n = 2
    while f"{base}/{n}" in taken:
        n += 1
    return f"{base}/{n}"


def _credit_account(ident: str) -> str:
    key = ident[len(CREDIT_PREFIX):]
    return "" if key.startswith("#") else _key_account(key)


def _credit_label(ident: str) -> str:
    at = ident.rfind("|L=")
    return ident[at + 3:] if at >= 0 else ""
