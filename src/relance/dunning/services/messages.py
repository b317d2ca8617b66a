"""Write each message: build the template context (plain data only) and render the
template in a Jinja2 sandbox, once as text and once as HTML.

Templates are user-editable (``MessageTemplate``), so they run in
``jinja2.sandbox.ImmutableSandboxedEnvironment`` and see nothing but dicts, lists and
strings: a template can format data, never reach code nor change the data (the payment
block, say) that the code uses after it. The variables are documented in
``docs/templates.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from relance.channels.addressing import Signatory, appellation, greeting, is_named, signatory_for
from relance.core import formatting as fmt
from relance.documents.payment_block import (
    PAYMENT_HTML_START,
    PaymentBlock,
    payment_context,
    payment_html,
    payment_text,
)
from relance.dunning.models import MessageTemplate
from relance.errors import InvalidInput
from relance.ledger.models import Contact, Customer, Invoice, Organisation

from . import sandbox
from .charges import InvoiceCharges
from .payment_details import payment_block_for

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "message_templates"
_ONE_LINE = re.compile(r"[ \t\r\n\f\v]+")

_text_env = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)
_html_env = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=False)

TABLE_HEADERS = {
    "fr": ("Facture", "Date", "Échéance", "Montant TTC", "Reste dû", "Retard"),
    "en": ("Invoice", "Date", "Due date", "Amount", "Outstanding", "Days late"),
}
#: the column naming what was sold, shown when one of the listed invoices carries it
DESCRIPTION_HEADER = {"fr": "Objet", "en": "Description"}
#: what the plain-text table shows of a long description (the HTML table and the letter show it all)
DESCRIPTION_TEXT_WIDTH = 40
CHARGE_HEADERS = {"fr": ("Pénalités", "Indemnité"), "en": ("Late interest", "Recovery fee")}
#: the templates that state the penalties owed to date (from the second reminder on)
CHARGED_TEMPLATES = frozenset({"relance_2", "relance_3", "courrier", "mise_en_demeure"})


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str  # the body as an HTML fragment (paragraphs and the invoice table)


class TemplateProblem(InvalidInput):
    """A template that does not compile or render; the message says where."""


def template_source(organisation: Organisation, key: str, language: str) -> tuple[str, str]:
    """(subject, body) of a template: the organisation's own, else the shipped one."""
    own = MessageTemplate.objects.filter(organisation=organisation, key=key, language=language).first()
    if own is not None:
        return own.subject, own.body
    return shipped_source(key, language)


def template_sources(organisation: Organisation,
                     wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """:func:`template_source` of several (key, language) pairs, in one query."""
    pairs = set(wanted)
    if not pairs:
        return {}
    own = {(t.key, t.language): (t.subject, t.body) for t in MessageTemplate.objects.filter(
        organisation=organisation, key__in={k for k, _ in pairs}, language__in={lang for _, lang in pairs})}
    return {pair: own.get(pair) or shipped_source(*pair) for pair in pairs}


def shipped_source(key: str, language: str) -> tuple[str, str]:
    """(subject, body) of the template shipped with relance (French when the language has none)."""
    path = TEMPLATE_DIR / language / f"{key}.txt"
    if not path.exists():
        path = TEMPLATE_DIR / "fr" / f"{key}.txt"
    subject, _, body = path.read_text(encoding="utf-8").partition("\n")
    return subject.strip(), body.strip("\n")


def _days(n: int, language: str) -> str:
    if language == "en":
        return f"{n} day{'s' if n != 1 else ''}" if n else "—"
    return f"{n} j" if n else "—"


def invoice_rows(invoices: Sequence[Invoice], today: date, language: str,
                 charges: dict[int, InvoiceCharges] | None = None) -> list[dict[str, Any]]:
    charges = charges or {}
    return [
        {
            "penalites": fmt.money(charges[i.id].late_charge, i.currency, language) if i.id in charges else "",
            "indemnite": fmt.money(charges[i.id].indemnity, i.currency, language) if i.id in charges else "",
            "numero": i.number,
            "date": fmt.short_date(i.issue_date, language),
            "echeance": fmt.short_date(i.due_date, language),
            "echeance_longue": fmt.long_date(i.due_date, language),
            "montant": fmt.money(i.amount_incl_tax, i.currency, language),
            "reste_du": fmt.money(i.amount_due, i.currency, language),
            "jours_retard": i.days_late(today),
            "retard": _days(i.days_late(today), language),
            "libelle": i.description,
        }
        for i in invoices
    ]


def _table_data(rows: Sequence[dict[str, Any]], language: str, charged: bool,
                text: bool = False) -> tuple[list[tuple[str, ...]], set[int]]:
    """The table (headers first) and the indexes of its right-aligned (figure) columns. The
    « Objet » column, what was sold, appears when one of the invoices carries a description."""
    headers: tuple[str, ...] = TABLE_HEADERS.get(language, TABLE_HEADERS["fr"])
    described = any(str(r.get("libelle") or "").strip() for r in rows)
    if charged:
        headers = headers + CHARGE_HEADERS.get(language, CHARGE_HEADERS["fr"])
    if described:
        headers = (*headers[:1], DESCRIPTION_HEADER.get(language, DESCRIPTION_HEADER["fr"]), *headers[1:])

    def described_as(row: dict[str, Any]) -> tuple[str, ...]:
        if not described:
            return ()
        words = " ".join(str(row.get("libelle") or "").split())
        if text and len(words) > DESCRIPTION_TEXT_WIDTH:
            words = words[:DESCRIPTION_TEXT_WIDTH - 1].rstrip() + "…"
        return (words,)

    cells = [
        (r["numero"],) + described_as(r) + (r["date"], r["echeance"], r["montant"], r["reste_du"], r["retard"])
        + ((r["penalites"], r["indemnite"]) if charged else ())
        for r in rows
    ]
    first_figure = 4 if described else 3
    return [headers, *cells], set(range(first_figure, len(headers)))


def text_table(rows: Sequence[dict[str, Any]], language: str, charged: bool = False) -> str:
    data, right = _table_data(rows, language, charged, text=True)
    headers = data[0]
    widths = [max(len(str(row[c])) for row in data) for c in range(len(headers))]
    out = []
    for row in data:
        cells = [str(v).rjust(widths[c]) if c in right else str(v).ljust(widths[c]) for c, v in enumerate(row)]
        out.append("  " + "   ".join(cells).rstrip())
    return "\n".join(out)


def html_table(rows: Sequence[dict[str, Any]], language: str, charged: bool = False) -> Markup:
    data, right = _table_data(rows, language, charged)
    head = "".join(f'<th class="{"num" if c in right else ""}">{escape(h)}</th>' for c, h in enumerate(data[0]))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"num" if c in right else ""}">{escape(str(v))}</td>' for c, v in enumerate(row))
        + "</tr>"
        for row in data[1:]
    )
    return Markup(f'<table class="invoices"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def salutation(contact: Contact | None, language: str) -> str:
    """The formal appellation without comma (« Madame »): see :func:`relance.channels.addressing.appellation`."""
    return appellation(contact, language)


@dataclass(frozen=True)
class Received:
    """A payment applied to the invoices a thank-you is about: its date, the amount applied to them."""

    on: date
    amount: Decimal
    reference: str = ""


def received_context(received: Sequence[Received], currency: str, language: str) -> dict[str, Any]:
    """What the thank-you says was received (``recu``): the amount applied to its invoices, the date
    of the payment (the last one when there were several) and each payment."""
    if not received:
        return {"montant": "", "date": "", "nombre": 0, "reglements": []}
    ordered = sorted(received, key=lambda r: r.on)
    return {
        "montant": fmt.money(sum((r.amount for r in ordered), Decimal(0)), currency, language),
        "date": fmt.long_date(ordered[-1].on, language),
        "nombre": len(ordered),
        "reglements": [{"date": fmt.long_date(r.on, language), "montant": fmt.money(r.amount, currency, language),
                        "reference": r.reference} for r in ordered],
    }


def payment_means(organisation: Organisation, reference: str, several: bool, language: str) -> str:
    """How to pay, in one sentence (``reglement.texte``): the transfer to the organisation's IBAN
    (and BIC), quoting the payment reference of the message, or else the invoice number(s)."""
    if not organisation.iban:
        return ""
    iban = " ".join(organisation.iban[i:i + 4] for i in range(0, len(organisation.iban), 4))
    nb = "\u00a0"
    if language == "en":
        quoting = (f"quoting the reference {reference}" if reference
                   else f"quoting the invoice number{'s' if several else ''}")
        return (f"Payment by bank transfer to {organisation.legal_name}: IBAN {iban}"
                f"{' — BIC ' + organisation.bic if organisation.bic else ''}, {quoting}.")
    quoting = (f"en indiquant la référence {reference}" if reference
               else f"en rappelant {'les numéros de facture' if several else 'le numéro de facture'}")
    return (f"Règlement par virement à l’ordre {fmt.de(organisation.legal_name)}{nb}: IBAN {iban}"
            f"{' — BIC ' + organisation.bic if organisation.bic else ''}, {quoting}.")


def build_context(
    organisation: Organisation,
    customer: Customer,
    contact: Contact | None,
    invoices: Sequence[Invoice],
    today: date,
    *,
    attachments: bool = False,
    other_due: Sequence[Invoice] = (),
    charges: dict[int, InvoiceCharges] | None = None,
    payment_block: PaymentBlock | None = None,
    letter: bool = False,
    signer: Signatory | None = None,
    received: Sequence[Received] = (),
) -> dict[str, Any]:
    """The variables of docs/templates.md. ``letter``: the message is printed (the greeting is then
    « Madame, », the name being on the envelope); ``signer``: who signs (default: the customer's
    collector, else the organisation's signatory); ``received``: the payments a thank-you is about."""
    language = customer.language
    if signer is None:
        signer = signatory_for(organisation, customer)
    rows = invoice_rows(invoices, today, language, charges)
    currency = invoices[0].currency if invoices else "EUR"
    total_due = sum((i.amount_due for i in invoices), Decimal(0))
    total_overdue = sum((i.amount_due for i in invoices if i.due_date < today), Decimal(0))
    numbers = [i.number for i in invoices]
    joined = ", ".join(numbers[:-1]) + (" et " if language == "fr" else " and ") + numbers[-1] if len(numbers) > 1 \
        else (numbers[0] if numbers else "")
    appel = appellation(contact, language)
    iban = " ".join(organisation.iban[i:i + 4] for i in range(0, len(organisation.iban), 4))
    payment = payment_means(organisation, str(payment_context(payment_block, language).get("reference", "")),
                            len(numbers) > 1, language)
    other = ""
    if other_due:
        amount = fmt.money(sum((i.amount_due for i in other_due), Decimal(0)), currency, language)
        other = (f"{len(other_due)} facture{'s' if len(other_due) > 1 else ''} ({amount})" if language == "fr"
                 else f"{len(other_due)} invoice{'s' if len(other_due) > 1 else ''} ({amount})")
    named = is_named(contact)
    return {
        "langue": language,
        "client": {
            "code": customer.code, "nom": customer.legal_name, "professionnel": customer.is_business,
            "siren": customer.siren,
        },
        "contact": {
            "civilite": contact.civility if contact else "", "prenom": contact.first_name if contact else "",
            "nom": contact.last_name if contact else "", "nom_complet": contact.full_name if contact else "",
            "fonction": contact.role if contact else "", "email": contact.email if contact else "",
            "nomme": named,
        },
        "appel": appel,
        # the channel's greeting: « Bonjour Madame Lefèvre, » by email, « Madame, » on a letter
        "salutation": greeting(contact, language, letter),
        "salutation_formelle": greeting(contact, language, letter=True),
        "salutation_nominative": named,
        "courrier": letter,
        "organisation": {
            "nom": organisation.legal_name, "telephone": organisation.phone,
            "email": organisation.reply_to_email or organisation.sender_email, "siren": organisation.siren,
            "ville": organisation.city,
        },
        "signataire": {"nom": signer.name, "fonction": signer.title},
        "factures": rows,
        "nombre_factures": len(rows),
        "numeros_factures": joined,
        "total_du": fmt.money(total_due, currency, language),
        "total_echu": fmt.money(total_overdue, currency, language),
        "reglement": {"iban": iban, "bic": organisation.bic, "titulaire": organisation.legal_name, "texte": payment},
        "paiement": payment_context(payment_block, language),
        "date_du_jour": fmt.long_date(today, language),
        "pieces_jointes": attachments,
        "autres_factures_dues": other,
        "nombre_autres_factures_dues": len(other_due),
        "recu": received_context(received, currency, language),
        # reminders every listed invoice received before this message: what « nos précédentes
        # relances » may claim (0: none of them, for one at least)
        "relances_precedentes": min((i.reminders_received for i in invoices), default=0),
        # a formal notice was sent about one of them: nothing softer may follow (« nos relances »)
        "mise_en_demeure_envoyee": any(i.formal_notice_on is not None for i in invoices),
        **_charges_context(organisation, invoices, charges or {}, today, currency, language, total_due),
    }


def _rate_text(rates: Sequence[Decimal], language: str) -> str:
    shown = [fmt.number(r, language) + ("\u00a0%" if language == "fr" else "%") for r in rates]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + (" puis " if language == "fr" else " then ") + shown[-1]


def _charges_context(organisation: Organisation, invoices: Sequence[Invoice], charges: dict[int, InvoiceCharges],
                     today: date, currency: str, language: str, total_due: Decimal) -> dict[str, Any]:
    """Penalties and indemnities to date, with their rate, period and legal basis in one line.

    A business debtor: L441-10 penalties, the 40 € indemnity per invoice and, apart, the justified
    collection costs above it (L441-10 II). A consumer: never any of these (CPCE L111-8), only
    interest from the formal notice — at the legal rate, or at the rate of the organisation's
    contractual clause (clause pénale, C. civ. 1231-5), never called « pénalités de retard »."""
    listed = [charges[i.id] for i in invoices if i.id in charges]
    penalties = sum((c.late_charge for c in listed), Decimal(0))
    indemnities = sum((c.indemnity for c in listed), Decimal(0))
    complements = sum((c.complement for c in listed), Decimal(0))
    rates: list[Decimal] = []
    for c in listed:
        rates += [r for r in c.rates if r not in rates]
    business = any(c.penalties is not None for c in listed)
    consumer = [c for c in listed if c.penalties is None and (c.interest is not None or c.clause is not None)]
    notice = min((c.formal_notice_on for c in consumer if c.formal_notice_on), default=None)
    notice_text = fmt.long_date(notice, language) if notice else ""
    clause = any(c.clause is not None for c in consumer)
    default_rate = organisation.penalty_rate is None
    until = fmt.long_date(today, language)
    if business:
        basis = _business_basis(rates, default_rate, until, complements, currency, language)
    elif language == "en":
        basis = (f"Late-payment interest at the contractual rate of {_rate_text(rates, language)} a year (clause of "
                 "our terms and conditions, article 1231-5 of the French Civil Code)" if clause else
                 f"Interest at the statutory rate of {_rate_text(rates, language)} a year (articles 1231-6 and 1344-1 "
                 "of the French Civil Code)") + f", from our formal notice of {notice_text} to {until}."
    else:
        basis = (f"Intérêts de retard au taux contractuel de {_rate_text(rates, language)} l’an (clause de nos "
                 "conditions générales, article 1231-5 du Code civil)" if clause else
                 f"Intérêts au taux légal de {_rate_text(rates, language)} l’an (articles 1231-6 et 1344-1 du Code "
                 "civil)") + f", de notre mise en demeure du {notice_text} au {until}."
    contractual = organisation.penalty_rate
    consumer_clause = organisation.consumer_penalty_rate
    return {
        "avec_penalites": business,
        "avec_interets": bool(consumer) and not business,
        "total_penalites": fmt.money(penalties, currency, language),
        "total_interets": fmt.money(penalties, currency, language),
        "total_indemnites": fmt.money(indemnities, currency, language),
        "total_frais_justifies": fmt.money(complements, currency, language) if complements else "",
        "total_reclame": fmt.money(total_due + penalties + indemnities + complements, currency, language),
        "base_legale": basis if rates and (business or consumer) else "",
        "taux_penalites": _rate_text(rates, language),
        # the rate printed on the invoices, when the organisation set one (else the legal default applies)
        "taux_contractuel": _rate_text([contractual], language) if contractual is not None else "",
        # the consumer contracts' late-interest clause, when the organisation has one
        "taux_clause_particuliers": _rate_text([consumer_clause], language) if consumer_clause is not None else "",
        "date_mise_en_demeure": notice_text,
    }


def _business_basis(rates: Sequence[Decimal], default_rate: bool, until: str, complements: Decimal, currency: str,
                    language: str) -> str:
    """The legal basis line of a business debtor's charges."""
    if language == "en":
        basis = (f"Late-payment interest at {_rate_text(rates, language)} a year"
                 f"{' (ECB rate + 10 points)' if default_rate else ' (rate of our terms and conditions of sale)'}, "
                 f"from the day after each due date to {until}, and a €40 fixed recovery fee per invoice "
                 "(articles L441-10 II and D441-5 of the French Commercial Code).")
        if complements:
            basis += (f" Recovery costs incurred above these fees, on justification: "
                      f"{fmt.money(complements, currency, language)} (article L441-10 II; receipts available).")
        return basis
    which = (" (taux de la BCE majoré de 10 points)" if default_rate
             else " (taux prévu par nos conditions générales de vente)")
    basis = (f"Pénalités de retard au taux annuel de {_rate_text(rates, language)}{which}"
             f", du lendemain de chaque échéance au {until}, et indemnité forfaitaire pour frais de recouvrement "
             "de 40\u00a0€ par facture (articles L441-10 II et D441-5 du Code de commerce).")
    if complements:
        basis += (f" Frais de recouvrement exposés au-delà de ces indemnités, sur justification\u00a0: "
                  f"{fmt.money(complements, currency, language)} (article L441-10 II du Code de commerce\u00a0; "
                  "justificatifs tenus à votre disposition).")
    return basis


def _paragraphs_html(rendered: str) -> str:
    parts = []
    for block in rendered.split("\n\n"):
        block = block.strip("\n")
        if not block.strip():
            continue
        if block.lstrip().startswith(('<table class="invoices">', PAYMENT_HTML_START)):
            parts.append(block.strip())
        else:
            parts.append("<p>" + block.replace("\n", "<br>\n") + "</p>")
    return "\n".join(parts)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue  # at most one blank line in a row
        out.append(line)
    return "\n".join(out)


@lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    return (_html_env if html else _text_env).from_string(source)


def render_source(subject_src: str, body_src: str, context: dict[str, Any], name: str = "modèle") -> RenderedMessage:
    language = context.get("langue", "fr")
    rows = context["factures"]
    charged = bool(context.get("avec_penalites"))
    try:  # within the bounds of relance.dunning.services.sandbox: time, output size, sizes, one text
        subject = sandbox.render(sandbox.compiled(subject_src, False), context).strip()
        payment = context.get("paiement")
        text = sandbox.render(sandbox.compiled(body_src, False),
                              {**context, "bloc_paiement": payment_text(payment),
                               "tableau_factures": text_table(rows, language, charged)})
        html = sandbox.render(sandbox.compiled(body_src, True),
                              {**context, "bloc_paiement": payment_html(payment),
                               "tableau_factures": html_table(rows, language, charged)})
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (ligne {line})" if line else ""
        if isinstance(exc, SecurityError):
            what = "accès interdit : un modèle peut mettre en forme les données, pas atteindre le code"
        elif isinstance(exc, UndefinedError):
            what = f"variable inconnue ({exc.message}) : voir docs/templates.md"
        elif isinstance(exc, TemplateSyntaxError):
            what = f"erreur de syntaxe ({exc.message})"
        elif isinstance(exc, TemplateNotFound):
            what = "include, import, from et extends ne sont pas permis : un modèle est un seul texte"
        else:
            what = str(exc.message or exc)
        raise TemplateProblem(f"modèle « {name} »{where} : {what}") from exc
    except Exception as exc:  # a template must never fail its page: every error is the editor's message
        raise TemplateProblem(f"modèle « {name} » : {_runtime_problem(exc)}") from exc
    # one line; the no-break spaces of French typography (« Rappel : ») are kept: the letter prints
    # them, the email header has ordinary ones (``compose.email_subject``)
    return RenderedMessage(_ONE_LINE.sub(" ", subject).strip(), _tidy(text), _paragraphs_html(_tidy(html)))


def _runtime_problem(exc: Exception) -> str:
    """The editor's words for an error raised while a template runs."""
    if isinstance(exc, sandbox.BoundExceeded):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "récursion trop profonde (une macro qui s’appelle elle-même ?)"
    if isinstance(exc, ZeroDivisionError):
        return "division par zéro"
    if isinstance(exc, OverflowError | MemoryError):
        return "nombre ou texte trop grand"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return "nombre trop grand"
    return f"erreur pendant le rendu ({type(exc).__name__} : {str(exc)[:200]})"


def render(organisation: Organisation, key: str, context: dict[str, Any],
           source: tuple[str, str] | None = None) -> RenderedMessage:
    """The message of template ``key`` (``source``: its (subject, body) when already read)."""
    subject_src, body_src = source or template_source(organisation, key, context.get("langue", "fr"))
    return render_source(subject_src, body_src, context, key)


def sample_context(language: str = "fr") -> dict[str, Any]:
    """A realistic context to check or preview a template without touching the database."""
    organisation = Organisation(legal_name="Atelier Exemple SAS", iban="FR7630006000011234567890189", bic="AGRIFRPP",
                                phone="01 23 45 67 89", signature_name="Sophie Laurent",
                                signature_title="Responsable comptable", city="Lyon")
    customer = Customer(code="C001", legal_name="Boulangerie Martin SARL", language=language)
    contact = Contact(civility="Mme", first_name="Claire", last_name="Martin", role="Gérante",
                      email="claire.martin@example.test")
    today = date(2026, 11, 23)
    invoices = [
        Invoice(number="F-2026-0101", issue_date=date(2026, 9, 15), due_date=date(2026, 10, 15),
                amount_incl_tax=Decimal("1200.00"), amount_due=Decimal("1200.00"), reminders_received=2,
                description="Oven maintenance" if language == "en" else "Maintenance du four"),
        Invoice(number="F-2026-0117", issue_date=date(2026, 10, 2), due_date=date(2026, 11, 1),
                amount_incl_tax=Decimal("480.50"), amount_due=Decimal("280.50"), reminders_received=2,
                description="Spare parts" if language == "en" else "Pièces détachées"),
    ]
    from relance.holds.services.wording import sample_hold_variables

    context = build_context(organisation, customer, contact, invoices, today, attachments=True,
                            payment_block=payment_block_for(organisation, customer, invoices),
                            received=[Received(date(2026, 11, 20), Decimal("1480.50"))])
    return {**context, **sample_hold_variables(language)}


def validate_template(subject: str, body: str, language: str = "fr") -> RenderedMessage:
    """Compile and render a template on sample data; raise :class:`TemplateProblem` if it fails."""
    return render_source(subject, body, sample_context(language), "modèle")
