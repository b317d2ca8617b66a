"""The evidence file as one PDF: rendered by WeasyPrint from ``templates/litigation/evidence.html``
(nothing fetched but the receipt scans, served from memory, as ``documents.letter_pdf`` does),
then each original PDF (invoice, letter, scanned receipt) put in place of the blank pages laid
out for it, so that the table of contents' page numbers (CSS ``target-counter``) count them; each
original page carries, stamped at its foot, its pièce number and its page in the file (the
untouched originals are in the ZIP)."""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from relance.core.formatting import long_date, money, number, short_date
from relance.documents.letter_pdf import LocalOnlyFetcher
from relance.events import kinds

from .collect import Facts
from .computation import computation
from .sections import Plan

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "litigation"

_local = threading.local()


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.globals.update(money=money, day=long_date, short=short_date, rate=_rate, label=kinds.label,
                       day_iso=_day_iso, css_string=_css_string)
    return env


def _rate(value: Decimal) -> str:
    return f"{number(value, digits=2)}\u00a0%"


def _css_string(text: str) -> Markup:
    """``text`` as a CSS string literal (for the page header set in the template's style)."""
    escaped = "".join(c if c.isalnum() or c in " -—’',.°/()" else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{escaped}"')


def _day_iso(value: Any) -> str:
    try:
        return long_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _resources() -> tuple[FontConfiguration, CSS]:
    """Fonts and the parsed stylesheet, once per thread (Pango's font maps are not thread-safe)."""
    cached: tuple[FontConfiguration, CSS] | None = getattr(_local, "resources", None)
    if cached is None:
        fonts = FontConfiguration()
        css = CSS(filename=str(TEMPLATES_DIR / "evidence.css"), font_config=fonts, url_fetcher=LocalOnlyFetcher())
        cached = _local.resources = (fonts, css)
    return cached


def evidence_html(facts: Facts, plan: Plan) -> str:
    """The HTML given to WeasyPrint (exposed for tests and debugging)."""
    org, customer = facts.organisation, facts.case.customer
    return _env().get_template("evidence.html").render(
        org=org, customer=customer, case=facts.case, as_of=facts.as_of, claim=facts.claim,
        business=facts.business, pieces=plan.pieces, sections=plan.sections,
        computation=computation(facts.claim),
        org_address=_address(org), customer_address=_address(customer),
        chain_ok=not facts.chain_problems, chain_problems=facts.chain_problems,
        head_hash=facts.head_hash or "—", head_seq=facts.head.seq if facts.head is not None else 0)


def _address(party: Any) -> list[str]:
    city = " ".join(x for x in (party.postal_code, party.city) if x)
    return [x for x in (party.address1, party.address2, city) if x]


def render(facts: Facts, plan: Plan) -> bytes:
    """The evidence PDF: the rendered pages with the originals in place of their blank pages."""
    fonts, css = _resources()
    inline: Mapping[str, tuple[bytes, str]] = plan.inline
    document = HTML(string=evidence_html(facts, plan), url_fetcher=LocalOnlyFetcher((), inline)).render(
        font_config=fonts, stylesheets=[css])
    originals = {f"orig-{a.key}-{n}": page for s in plan.sections for a in s.attachments
                 for n, page in enumerate(a.pages)}
    replaced: dict[int, Any] = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor in originals:
                replaced[index] = originals[anchor]
    rendered = PdfReader(io.BytesIO(document.write_pdf()))
    writer = PdfWriter()
    for index, page in enumerate(rendered.pages):
        original = replaced.get(index)
        if original is None:
            writer.add_page(page)
        else:
            # the original page, with the blank page's footer (pièce and page number) over it
            writer.add_page(original).merge_page(page)
    writer.add_metadata({"/Title": f"Dossier de recouvrement — {facts.case.customer.legal_name}",
                         "/Subject": f"Contentieux n° {facts.case.pk}, créance arrêtée au {facts.as_of.isoformat()}",
                         "/Producer": "relance"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
