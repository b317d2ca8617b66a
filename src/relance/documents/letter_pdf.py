"""PDF rendering of dunning letters (*lettres de relance*, *mises en demeure*) and demo invoices.

HTML templates (Jinja2, autoescaped) live in ``templates/documents/`` next to this module and are
laid out by WeasyPrint on A4 paper.  Nothing is ever fetched from the network: the URL fetcher
given to WeasyPrint refuses every URL except the ``file://`` URL of the logo the caller passed.

Window envelope geometry
------------------------
The recipient block is placed so that it shows through the window of the usual French business
envelope, the DL (110 × 220 mm) "fenêtre à droite" envelope, with the A4 sheet folded in three
(panels of 99 mm, fold marks printed in the left margin).

* Envelope window: 100 × 45 mm, 20 mm from the right edge and 15 mm from the bottom edge of the
  envelope, i.e. 50–95 mm from its top (the usual NF/La Poste window; the same 100 × 45 figure is
  listed for DL/C5-6 windows in "Normes pour enveloppes à fenêtre", studylibfr.com/doc/2273411).
  The folded sheet (210 × 99 mm) can slide by up to 10 mm sideways and 11 mm vertically inside the
  envelope, so the part of the sheet that is *always* visible is x = 100–190 mm, y = 50–84 mm.
* Recommended address frame on the letter: 85 × 33 mm, 110 mm from the left edge and 55 mm from the
  top edge of the sheet (edics.fr, "Rédiger vos adresses : les bonnes pratiques", which also says
  this position leaves room for the barcode of registered mail).
* We therefore print the address in a frame of x = 110–190 mm, y = 55–84 mm (80 × 29 mm): inside
  the edics frame *and* inside the always-visible part of the window.  At 10 pt (La Poste allows
  9–12 pt) this holds the six lines of a postal address (NF Z10-011).

:data:`WINDOW_MM` (the window as projected on a sheet flush with the top of the envelope) and
:data:`ADDRESS_FRAME_MM` are public so that tests can check the rendered position.

Payment block
-------------
A reminder letter carries its payment block (:mod:`relance.documents.payment_block`): the body
placed it (``{{ bloc_paiement }}`` in the message template), or the layout adds it after the body.
The QR code it refers to as ``cid:…`` is served from memory by the URL fetcher and embedded in the
PDF as a PNG image; nothing else is fetched.
"""

from __future__ import annotations

import datetime
import functools
import mimetypes
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from relance.core.formatting import long_date, money, short_date

from .payment_block import PAYMENT_MARKER, PaymentBlock

TEMPLATES_DIR = Path(__file__).parent / "templates" / "documents"

#: (left, top, right, bottom) in millimetres from the top-left corner of the A4 sheet.
#: The DL envelope window (100 × 45 mm, 20 mm from the right, 15 mm from the bottom of a
#: 220 × 110 mm envelope) as seen on a sheet centred sideways and pushed to the top of the envelope.
WINDOW_MM: tuple[float, float, float, float] = (95.0, 50.0, 195.0, 95.0)
#: Where the recipient block is printed (always visible through the window, see module docstring).
ADDRESS_FRAME_MM: tuple[float, float, float, float] = (110.0, 55.0, 190.0, 84.0)
A4_MM: tuple[float, float] = (210.0, 297.0)

_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "registered": "Lettre recommandée avec accusé de réception",
        "tracking": "N°\u00a0de recommandé\u00a0:",
        "date_with_place": "{place}, le {date}",
        "date_alone": "Le {date}",
    },
    "en": {
        "registered": "Registered letter with acknowledgement of receipt",
        "tracking": "Registered mail no.:",
        "date_with_place": "{place}, {date}",
        "date_alone": "{date}",
    },
}
_TRACKING_BLANK = "_" * 22


@dataclass(frozen=True)
class Party:
    """A sender, recipient, seller or buyer."""

    name: str
    lines: tuple[str, ...]
    attention: str = ""
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class LetterDoc:
    """Everything printed on a letter.

    ``body_html`` is a *trusted* HTML fragment (already escaped by the caller).  Invoice tables in it
    should use ``<table class="invoices">`` with ``<thead>``/``<tbody>``/``<tfoot>``; cells holding
    amounts or other figures should carry ``class="amount"`` (or ``num``) to be right-aligned.
    """

    sender: Party
    recipient: Party
    place: str
    on: datetime.date
    subject: str
    references: tuple[str, ...]
    body_html: str
    signature_name: str
    signature_title: str
    registered: bool = False
    tracking_number: str = ""
    language: str = "fr"
    logo_path: str = ""
    footer: str = ""
    attachments: tuple[str, ...] = ()
    payment: PaymentBlock | None = None


@dataclass(frozen=True)
class InvoiceDoc:
    """A (demo) French invoice with a single line."""

    seller: Party
    buyer: Party
    number: str
    issue_date: datetime.date
    due_date: datetime.date
    description: str
    amount_excl_tax: Decimal
    tax_amount: Decimal
    amount_incl_tax: Decimal
    iban: str
    bic: str
    penalty_clause: str
    footer: str = ""


# --------------------------------------------------------------------------------------------
# URL fetching: local files explicitly allowed, nothing else.
# --------------------------------------------------------------------------------------------


class URLRefused(ValueError):
    """Raised by :class:`LocalOnlyFetcher` for any URL it does not serve."""


class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher that serves only the given local files and in-memory images.

    ``inline`` maps Content-IDs to ``(bytes, content type)``: ``cid:<id>`` URLs are served from it
    (the QR code of the payment block).  http, https, ftp, data… and any other ``file://`` path or
    ``cid:`` are refused (WeasyPrint logs a warning and renders without the resource).  Refused URLs
    are recorded in :attr:`refused`.
    """

    def __init__(self, allowed_files: Iterable[str | Path] = (),
                 inline: Mapping[str, tuple[bytes, str]] | None = None) -> None:
        super().__init__(timeout=1, allowed_protocols={"file"}, allow_redirects=False)
        self.allowed = frozenset(Path(p).resolve() for p in allowed_files if str(p))
        self.inline = dict(inline or {})
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme.lower() == "cid" and parts.path in self.inline:
            content, content_type = self.inline[parts.path]
            return URLFetcherResponse(url, content, {"Content-Type": content_type})
        if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
            path = Path(url2pathname(parts.path)).resolve()
            if path in self.allowed and path.is_file():
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})
        self.refused.append(url)
        raise URLRefused(f"relance documents never fetch {url[:200]!r}")

    def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:  # urllib entry point
        raise URLRefused("relance documents never open URLs through urllib")


# --------------------------------------------------------------------------------------------
# Shared, lazily built rendering resources (template environment, fonts, parsed CSS).
# --------------------------------------------------------------------------------------------


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


_local = threading.local()


def _resources() -> tuple[FontConfiguration, CounterStyle, CSS]:
    """Font configuration, ``@counter-style`` rules and the parsed stylesheet, built once per thread.

    Reusing them saves the fontconfig set-up, the CSS parsing and Pango's font caches on every
    document after the first; they are per thread because Pango font maps are not thread-safe.
    """
    cached: tuple[FontConfiguration, CounterStyle, CSS] | None = getattr(_local, "resources", None)
    if cached is None:
        fonts = FontConfiguration()
        counters = CounterStyle()
        base = CSS(
            filename=str(TEMPLATES_DIR / "documents.css"),
            font_config=fonts,
            counter_style=counters,
            url_fetcher=LocalOnlyFetcher(),
        )
        cached = _local.resources = (fonts, counters, base)
    return cached


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["fr"])


def _date_line(place: str, on: datetime.date, language: str) -> str:
    words = _words(language)
    day = long_date(on, language if language in _WORDS else "fr")
    if place.strip():
        return words["date_with_place"].format(place=place.strip(), date=day)
    return words["date_alone"].format(date=day)


def _logo_uri(logo_path: str) -> str:
    if not logo_path:
        return ""
    path = Path(logo_path).resolve()
    return path.as_uri() if path.is_file() else ""


def _render(html: str, allowed_files: Sequence[str],
            inline: Mapping[str, tuple[bytes, str]] | None = None) -> Document:
    fonts, counters, base = _resources()
    fetcher = LocalOnlyFetcher(allowed_files, inline)
    # WeasyPrint adds the user-agent counter styles to the mapping it is given: hand it a copy.
    return HTML(string=html, url_fetcher=fetcher).render(
        font_config=fonts, counter_style=CounterStyle(counters), stylesheets=[base]
    )


def _write(html: str, allowed_files: Sequence[str], inline: Mapping[str, tuple[bytes, str]] | None = None) -> bytes:
    pdf: bytes = _render(html, allowed_files, inline).write_pdf()
    return pdf


# --------------------------------------------------------------------------------------------
# Letters
# --------------------------------------------------------------------------------------------


#: the letter's layouts, tried in this order until the letter takes no more pages than needed
#: (``fit`` of :func:`letter_html`): the usual spacing, then tighter spacing (documents.css,
#: « .letter.compact »), so that a letter a few lines too long does not spill its closing and
#: signature alone onto a second page.
FITS = ("", "compact")


def letter_html(doc: LetterDoc, fit: str = "") -> str:
    """The HTML given to WeasyPrint (exposed for debugging and tests); ``fit`` one of :data:`FITS`."""
    words = _words(doc.language)
    language = doc.language if doc.language in _WORDS else "fr"
    return (
        _env()
        .get_template("letter.html")
        .render(
            doc=doc,
            lang=language,
            words=words,
            date_line=_date_line(doc.place, doc.on, language),
            logo_uri=_logo_uri(doc.logo_path),
            body=Markup(doc.body_html),  # trusted fragment, escaped by the caller
            payment_block=_payment_after_body(doc),
            tracking=doc.tracking_number.strip() or _TRACKING_BLANK,
            fit=fit,
        )
    )


def _payment_after_body(doc: LetterDoc) -> Markup:
    """The payment block, when the body (an organisation's older template) did not place it."""
    if doc.payment is None or PAYMENT_MARKER in doc.body_html:
        return Markup("")
    return doc.payment.html()


def render_letter_document(doc: LetterDoc) -> Document:
    """The laid-out letter (A4, window-envelope layout), fitted to its content.

    A letter that spills onto a second page is laid out again with tighter spacing
    (:data:`FITS`), kept when it saves the page. Whatever the layout, the closing and the
    signature never stand alone on a page: the stylesheet keeps the body's last blocks
    (the paragraph before the closing, the closing) with the signature."""
    allowed = [doc.logo_path] if doc.logo_path else []
    inline = {}
    if doc.payment is not None and doc.payment.has_qr:
        inline[doc.payment.qr_cid] = (doc.payment.qr_png(), "image/png")
    document = _render(letter_html(doc), allowed, inline)
    for fit in FITS[1:]:
        if len(document.pages) == 1:
            break
        tighter = _render(letter_html(doc, fit), allowed, inline)
        if len(tighter.pages) < len(document.pages):
            document = tighter
    return document


def render_letter_pdf(doc: LetterDoc) -> bytes:
    """Render a letter to PDF bytes (A4, window-envelope layout, see :func:`render_letter_document`)."""
    pdf: bytes = render_letter_document(doc).write_pdf()
    return pdf


# --------------------------------------------------------------------------------------------
# Demo invoices
# --------------------------------------------------------------------------------------------


def _tax_rate(doc: InvoiceDoc) -> str:
    """``20`` / ``5,5`` when the VAT amount matches a usual French rate, else ``""``."""
    if doc.amount_excl_tax <= 0:
        return ""
    for rate in (Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"), Decimal("0")):
        expected = (doc.amount_excl_tax * rate / 100).quantize(Decimal("0.01"))
        if abs(expected - doc.tax_amount) <= Decimal("0.01"):
            return format(rate.normalize(), "f").replace(".", ",")
    return ""


def _group_iban(iban: str) -> str:
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def invoice_html(doc: InvoiceDoc) -> str:
    return _env().get_template("invoice.html").render(**_invoice_context(doc))


def _invoice_context(doc: InvoiceDoc) -> dict[str, Any]:
    return {
        "doc": doc,
        "issue_date": short_date(doc.issue_date, "fr"),
        "due_date": short_date(doc.due_date, "fr"),
        "due_date_long": long_date(doc.due_date, "fr"),
        "excl": money(doc.amount_excl_tax, "EUR", "fr"),
        "tax": money(doc.tax_amount, "EUR", "fr"),
        "incl": money(doc.amount_incl_tax, "EUR", "fr"),
        "rate": _tax_rate(doc),
        "iban": _group_iban(doc.iban),
    }


def render_invoice_pdf(doc: InvoiceDoc) -> bytes:
    """Render one demo invoice to PDF bytes."""
    return _write(invoice_html(doc), [])


def render_many_invoice_pdfs(docs: Sequence[InvoiceDoc]) -> list[bytes]:
    """Render many invoices, one PDF each, reusing the template, fonts and parsed CSS."""
    return [render_invoice_pdf(doc) for doc in docs]
