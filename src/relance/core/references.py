"""Payment references: ISO 11649 creditor references ("RF…") and the EPC QR code
(EPC069-12 "GiroCode", BCD version 002) printed on a reminder so that the
customer's banking app fills in the SEPA credit transfer.

Error messages are in French: they are shown to the user as they are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import segno
from stdnum import iban as stdnum_iban
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from .iban import compact_iban

RF_MAX_LENGTH = 25
_RF_PAYLOAD_MAX = RF_MAX_LENGTH - 4
_RF_SHAPE = re.compile(r"RF(\d{2})([A-Z0-9]{1,21})")


class PaymentReferenceError(ValueError):
    """An invalid reference or payment QR field (message in French)."""


def _rf_compact(reference: str) -> str:
    return re.sub(r"\s", "", reference).upper()


def is_valid_rf(reference: str) -> bool:
    """Strict ISO 11649 check: only letters and digits (spaces allowed between
    groups), at most 25 characters, check digits 02 to 98, mod 97 = 1.

    Stricter than ``stdnum.iso11649.is_valid``, which also strips dots and
    hyphens and accepts the check digits 00, 01 and 99 that the check-digit
    computation (98 − mod 97) can never produce.
    """
    compact = _rf_compact(reference)
    match = _RF_SHAPE.fullmatch(compact)
    if not match or not 2 <= int(match.group(1)) <= 98:
        return False
    return bool(iso11649.is_valid(compact))


def validate_rf(reference: str) -> str:
    """Return the compact form of a valid RF reference, else raise PaymentReferenceError."""
    compact = _rf_compact(reference)
    if not compact.startswith("RF"):
        raise PaymentReferenceError("la référence RF doit commencer par « RF »")
    if len(compact) > RF_MAX_LENGTH:
        raise PaymentReferenceError(f"la référence RF dépasse {RF_MAX_LENGTH} caractères")
    if not is_valid_rf(compact):
        raise PaymentReferenceError("référence RF invalide (caractères ou clé de contrôle incorrects)")
    return compact


def rf_payload(text: str) -> str:
    """The alphanumeric payload derived from an invoice or customer reference:
    accents removed, upper case, spaces dropped. Raises PaymentReferenceError when
    anything else than letters, digits and spaces remains, when it is empty or
    longer than 21 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    payload = re.sub(r"\s", "", ascii_text).upper()
    if not payload:
        raise PaymentReferenceError("référence vide : impossible de créer une référence RF")
    if not re.fullmatch(r"[A-Z0-9]+", payload):
        raise PaymentReferenceError(f"la référence « {text} » contient autre chose que des lettres et des chiffres")
    if len(payload) > _RF_PAYLOAD_MAX:
        raise PaymentReferenceError(f"la référence « {text} » dépasse {_RF_PAYLOAD_MAX} caractères")
    return payload


def make_rf(reference: str) -> str:
    """``"2348231"`` → ``"RF712348231"`` (check digits from stdnum's mod 97)."""
    payload = rf_payload(reference)
    check = mod_97_10.calc_check_digits(payload + "RF")
    rf = f"RF{check}{payload}"
    if not is_valid_rf(rf):  # pragma: no cover - guaranteed by the arithmetic
        raise PaymentReferenceError(f"référence RF générée invalide : {rf}")
    return rf


def make_rf_lenient(reference: str) -> str:
    """Like :func:`make_rf` but drops the punctuation of invoice numbers
    (``"FA-2024/0012"`` → ``"RF..FA20240012"``)."""
    ascii_text = unicodedata.normalize("NFKD", reference).encode("ascii", "ignore").decode("ascii")
    return make_rf(re.sub(r"[^A-Za-z0-9]", "", ascii_text))


def format_rf(reference: str) -> str:
    """Groups of four characters: ``RF18539007547034`` → ``RF18 5390 0754 7034``."""
    compact = _rf_compact(reference)
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


# --------------------------------------------------------------------------- EPC QR code

EPC_MIN_AMOUNT = Decimal("0.01")
EPC_MAX_AMOUNT = Decimal("999999999.99")
_CHARSETS = {1: "utf-8", 2: "iso-8859-1"}
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{1,30}")


@dataclass(frozen=True)
class EpcPayment:
    name: str
    iban: str
    amount: Decimal
    bic: str = ""
    reference: str = ""  # structured ISO 11649 "RF…" reference
    text: str = ""  # unstructured remittance information


def _to_amount(value: Decimal | int | float | str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ".")) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise PaymentReferenceError(f"montant illisible : {value!r}") from exc
    if not amount.is_finite():
        raise PaymentReferenceError(f"montant illisible : {value!r}")
    return amount


def format_epc_amount(value: Decimal | int | float | str) -> str:
    """``Decimal("12.30")`` → ``"EUR12.3"``; 0.01 ≤ amount ≤ 999 999 999.99, at most two decimals."""
    amount = _to_amount(value)
    if amount != amount.quantize(Decimal("0.01")):
        raise PaymentReferenceError("montant invalide : au plus deux décimales")
    if not EPC_MIN_AMOUNT <= amount <= EPC_MAX_AMOUNT:
        raise PaymentReferenceError("montant invalide : il doit être compris entre 0,01 € et 999 999 999,99 €")
    text = format(amount.quantize(Decimal("0.01")), "f")
    text = text.rstrip("0").rstrip(".")
    return f"EUR{text}"


def epc_payload(
    *,
    name: str,
    iban: str,
    amount: Decimal | int | float | str,
    bic: str = "",
    reference: str = "",
    text: str = "",
    purpose: str = "",
    charset: int = 1,
    check_iban: bool = True,
) -> str:
    """The EPC069-12 payload (BCD / 002 / charset 1 = UTF-8 / SCT), lines joined by LF,
    without trailing empty lines. Exactly one of ``reference`` (RF) and ``text``.

    ``purpose`` (4-character ISO 20022 code) stays empty for relance; ``charset`` 2
    (ISO-8859-1) and ``check_iban=False`` exist only to reproduce published examples."""
    name = name.strip()
    iban_c = compact_iban(iban)
    bic_c = re.sub(r"\s", "", bic).upper()
    reference_c = _rf_compact(reference)
    text = text.strip()
    if not name:
        raise PaymentReferenceError("nom du bénéficiaire obligatoire")
    if len(name) > 70:
        raise PaymentReferenceError("nom du bénéficiaire trop long (70 caractères au plus)")
    if charset not in _CHARSETS:
        raise PaymentReferenceError("jeu de caractères non pris en charge (1 = UTF-8 ou 2 = ISO-8859-1)")
    if not iban_c or len(iban_c) > 34:
        raise PaymentReferenceError("IBAN invalide (34 caractères au plus)")
    if check_iban and (not _IBAN.fullmatch(iban_c) or not stdnum_iban.is_valid(iban_c)):
        raise PaymentReferenceError("IBAN invalide (format ou clé de contrôle incorrects)")
    if bic_c and not _BIC.fullmatch(bic_c):
        raise PaymentReferenceError("BIC invalide : 8 ou 11 caractères")
    amount_line = format_epc_amount(amount)
    purpose_c = purpose.strip().upper()
    if purpose_c and not re.fullmatch(r"[A-Z0-9]{4}", purpose_c):
        raise PaymentReferenceError("code objet (purpose) invalide : 4 lettres ou chiffres")
    if reference_c and text:
        raise PaymentReferenceError("référence structurée et texte libre ne peuvent pas figurer ensemble")
    if not reference_c and not text:
        raise PaymentReferenceError("indiquer une référence RF ou un texte libre")
    if reference_c:
        if len(reference_c) > 35:
            raise PaymentReferenceError("référence structurée trop longue (35 caractères au plus)")
        if not is_valid_rf(reference_c):
            raise PaymentReferenceError("référence RF invalide (caractères ou clé de contrôle incorrects)")
    if len(text) > 140:
        raise PaymentReferenceError("texte libre trop long (140 caractères au plus)")
    if "\n" in name + text or "\r" in name + text:
        raise PaymentReferenceError("retour à la ligne interdit dans le nom ou le texte")
    lines = ["BCD", "002", str(charset), "SCT", bic_c, name, iban_c, amount_line, purpose_c, reference_c, text]
    while lines and not lines[-1]:
        lines.pop()
    payload = "\n".join(lines)
    try:
        encoded = payload.encode(_CHARSETS[charset])
    except UnicodeEncodeError as exc:
        raise PaymentReferenceError("caractère impossible à coder en ISO-8859-1 : utiliser le jeu UTF-8") from exc
    if len(encoded) > 331:
        raise PaymentReferenceError("données du QR code trop longues (331 octets au plus)")
    return payload


def epc_payload_bytes(payload: str) -> bytes:
    """The payload encoded with the charset named on its third line."""
    lines = payload.split("\n")
    charset = int(lines[2]) if len(lines) > 2 and lines[2].isdigit() else 1
    return payload.encode(_CHARSETS.get(charset, "utf-8"))


def epc_qr(payload: str) -> segno.QRCode:
    """The segno QR code (error correction M, not boosted) of an EPC payload."""
    return segno.make_qr(epc_payload_bytes(payload), error="m", boost_error=False)


def epc_qr_svg(payload: str, scale: int = 4) -> str:
    """SVG (text) of the QR code, error correction level M."""
    import io

    qr = epc_qr(payload)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, xmldecl=False)
    return out.getvalue().decode("utf-8")


def epc_qr_png(payload: str, scale: int = 4) -> bytes:
    """PNG bytes of the QR code, error correction level M."""
    import io

    qr = epc_qr(payload)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale)
    return out.getvalue()
