"""The law pages: the legal calculator (``/calculateur/``), the rate tables (``/taux/``), and the
late charges of a customer's open invoices (used by the customer page).

The calculator calls ``relance.core.law`` through the forms of ``forms_law``, with the tables in
force (``rate_tables()``: the shipped, sourced tables plus the semesters users added). Invalid
input shows an error and no result; a missing rate shows its message and a link to the rates page,
never a figure. Adding a semester is reserved to staff users.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from relance.clock import today_for, zone_of
from relance.core import formatting as fmt
from relance.core.law import (
    LegalInterestResult,
    MissingRate,
    PenaltyResult,
    Period,
    RateTables,
    Semester,
    semester_of,
)
from relance.core.money import ZERO
from relance.dunning import queries as dunning
from relance.dunning.services.charges import InvoiceCharges
from relance.errors import Conflict, InvalidInput
from relance.ledger import queries as ledger
from relance.ledger.models import Customer, Invoice, Organisation
from relance.rates.models import AddedRate
from relance.rates.services import add_rate, rate_tables

from .forms_law import CALCULATOR_FORMS, AddRateForm
from .language import current_language
from .scoping import Scope, scope

FIRST_SEMESTER = Semester(2015, 1)
"""The shipped legal-rate table starts with the ordonnance 2014-947 (1 January 2015)."""

STATUS_LABELS = {
    "CONFIRMED": gettext_lazy("confirmé"),
    "UNCONFIRMED": gettext_lazy("non confirmé"),
    "USER": gettext_lazy("saisi par un utilisateur"),
}
ECB_KIND_LABELS = {
    "change": gettext_lazy("décision"),
    "hold": gettext_lazy("maintien"),
    "fixing": gettext_lazy("taux saisi"),
}


# --------------------------------------------------------------------------- helpers


def pct(rate: Decimal) -> str:
    """``Decimal("14.5")`` → ``14,50 %`` (``14.50%`` in English): at least two decimals, more if the
    rate has them (never rounded: a stipulated 12,125 % stays 12,125 %)."""
    exponent = rate.as_tuple().exponent
    digits = max(2, -exponent) if isinstance(exponent, int) else 2
    language = current_language()
    sign = "%" if language == "en" else "\u00a0%"
    return fmt.number(rate, language, digits=digits) + sign


def _scope_or_none(request: HttpRequest) -> Scope | None:
    """The law pages work without an organisation (nothing in them belongs to one)."""
    try:
        return scope(request)
    except PermissionDenied:
        return None


def render_page(request: HttpRequest, template: str, sc: Scope | None, context: dict[str, Any],
            status: int = 200) -> HttpResponse:
    base: dict[str, Any] = {"scope": sc, "organisation": sc.organisation if sc else None,
                            "zone": ledger.organisation_zone(sc.organisation) if sc else zone_of(None)}
    return render(request, template, {**base, **context}, status=status)


def _period_rows(periods: tuple[Period, ...]) -> list[dict[str, Any]]:
    return [
        {"start": p.start, "end": p.end, "days": p.days, "base": p.base, "rate": pct(p.rate), "basis": p.rate_basis,
         "amount": p.amount}
        for p in periods
    ]


def _penalties_view(result: PenaltyResult, to_date: bool) -> dict[str, Any]:
    return {
        "periods": _period_rows(result.periods),
        "total": result.total,
        "indemnity": result.indemnity,
        "grand_total": result.total_with_indemnity,
        "days": result.days_late,
        "principal": result.principal,
        "due": result.due_date,
        "end": result.paid_date,
        "to_date": to_date,
        "consumer": result.debtor == "consumer",
        "floors": [str(s) for s in result.floor_semesters],
        "warnings": list(result.warnings),
    }


def _interest_view(result: LegalInterestResult, to_date: bool) -> dict[str, Any]:
    return {
        "periods": _period_rows(result.periods),
        "total": result.total,
        "days": result.days,
        "principal": result.amount,
        "start": result.from_date,
        "end": result.to_date,
        "to_date": to_date,
        "category": _("particuliers") if result.category == "individual" else _("autres cas"),
        "majoration_from": result.majoration_from,
        "warnings": list(result.warnings),
    }


# --------------------------------------------------------------------------- calculator


@login_required
@require_GET
def calculator(request: HttpRequest) -> HttpResponse:
    """Four calculators on one page; ``?calcul=<kind>&…`` runs one of them (a GET: nothing is
    stored, and a result can be bookmarked)."""
    sc = _scope_or_none(request)
    today = today_for(sc.organisation if sc else None)
    active = request.GET.get("calcul", "")
    sections = []
    for form_class in CALCULATOR_FORMS:
        bound = form_class.kind == active
        form = form_class(request.GET if bound else None)
        section: dict[str, Any] = {"kind": form_class.kind, "title": form_class.title, "form": form,
                                   "active": bound, "result": None, "missing": None, "basis": ""}
        if bound and form.is_valid():
            try:
                outcome = form.compute(rate_tables(), today)
            except MissingRate as exc:
                section["missing"] = exc
            else:
                to_date = bool(form.cleaned_data.get("a_ce_jour"))
                if isinstance(outcome, PenaltyResult):
                    section["result"] = _penalties_view(outcome, to_date)
                elif isinstance(outcome, LegalInterestResult):
                    section["result"] = _interest_view(outcome, to_date)
                else:
                    section["result"] = outcome
                if outcome is not None:
                    section["basis"] = " ; ".join(outcome.legal_basis)
        sections.append(section)
    context = {"today": today, "sections": sections, "active": active if any(s["active"] for s in sections) else ""}
    return render_page(request, "relance/calculator.html", sc, context)


# --------------------------------------------------------------------------- rates


@dataclass
class SemesterRow:
    semester: Semester
    individual: str | None = None
    other: str | None = None
    floor: str | None = None
    legal_status: str = ""
    legal_reference: str = ""
    legal_sources: list[dict[str, str]] = field(default_factory=list)
    ecb: str | None = None
    default_penalty: str | None = None
    ecb_status: str = ""
    ecb_reference: str = ""
    ecb_sources: list[dict[str, str]] = field(default_factory=list)
    future: bool = False

    @property
    def legal_missing(self) -> bool:
        return self.individual is None

    @property
    def ecb_missing(self) -> bool:
        return self.ecb is None

    @property
    def missing(self) -> bool:
        return self.legal_missing or self.ecb_missing

    @property
    def missing_text(self) -> str:
        if self.legal_missing and self.ecb_missing:
            what = _("intérêt légal et taux BCE")
        else:
            what = _("intérêt légal") if self.legal_missing else _("taux BCE")
        return _("%(semester)s : taux non publiés dans nos sources — à ajouter (%(what)s)") % {
            "semester": self.semester, "what": what}


def _links(sources: tuple[str, ...]) -> list[dict[str, str]]:
    result = []
    for source in sources:
        url, _sep, note = source.partition(" ")
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https") and parsed.netloc:
            result.append({"url": url, "text": parsed.netloc.removeprefix("www."), "note": note.strip()})
        else:
            result.append({"url": "", "text": source, "note": ""})
    return result


def semester_rows(tables: RateTables, today: date) -> list[SemesterRow]:
    """One row per semester from 2015-S1 to the current one (and beyond if rates were added ahead)."""
    current = semester_of(today)
    last = max([current, *(r.semester for r in tables.legal_rows)])
    rows = []
    sem = FIRST_SEMESTER
    while sem <= last:
        row = SemesterRow(sem, future=sem > current)
        try:
            legal = tables.legal_row(sem)
        except MissingRate:
            pass
        else:
            row.individual, row.other = pct(legal.individual), pct(legal.other)
            row.floor = pct(tables.penalty_floor(sem))
            row.legal_status = str(STATUS_LABELS.get(legal.status, legal.status))
            row.legal_reference = legal.reference
            row.legal_sources = _links(legal.sources)
        try:
            ecb = tables.ecb_row_on(sem.start)
        except MissingRate:
            pass
        else:
            row.ecb = pct(ecb.rate)
            row.default_penalty = pct(tables.default_penalty_rate(sem))
            row.ecb_status = str(STATUS_LABELS.get(ecb.status, ecb.status))
            row.ecb_reference = _("%(kind)s du %(day)s") % {"kind": ECB_KIND_LABELS.get(ecb.kind, ecb.kind),
                                                          "day": fmt.short_date(ecb.effective_date)}
            row.ecb_sources = _links(ecb.sources)
        rows.append(row)
        sem = sem.next()
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def rates(request: HttpRequest) -> HttpResponse:
    """The rate tables in force, the semesters users added, and (staff only) a form to add one."""
    sc = _scope_or_none(request)
    today = today_for(sc.organisation if sc else None)
    can_add = bool(request.user.is_staff)
    form = None
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied(_("Seul un administrateur peut ajouter des taux."))
        form = AddRateForm(request.POST)
        if form.is_valid():
            try:
                typed = form.rates()
                row = add_rate(form.cleaned_data["semestre"].strip(), individual=typed["individual"],
                               other=typed["other"], ecb=typed["ecb"], source=form.cleaned_data["source"].strip(),
                               actor=request.user.get_username())
            except (InvalidInput, Conflict) as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Semestre %(semester)s enregistré : les calculs l’utilisent désormais, "
                                            "et les relances qui attendaient ce taux repartent.")
                                 % {"semester": row.semester})
                return redirect("web:rates")
    tables = rate_tables()
    rows = semester_rows(tables, today)
    missing = [r for r in rows if r.missing and not r.future]
    if form is None and can_add:
        form = AddRateForm(initial={"semestre": str(missing[0].semester) if missing else ""})
    context = {
        "today": today,
        "rows": list(reversed(rows)),
        "missing": missing,
        "added": list(AddedRate.objects.order_by("semester")),
        "conflicts": tables.conflicts,
        "last_ecb_decision": tables.last_ecb_decision,
        "can_add": can_add,
        "form": form,
    }
    return render_page(request, "relance/rates.html", sc, context)


# --------------------------------------------------------------------------- customer page


@dataclass
class CustomerCharges:
    """The late charges of a customer's open invoices, by invoice id, and their totals.

    The totals are ``None`` when a rate is missing for one of the invoices: a partial sum is
    never shown as a total.
    """

    by_invoice: dict[int, InvoiceCharges]
    penalties: Decimal | None
    indemnities: Decimal | None
    missing: list[str]
    late: int

    @property
    def grand_total(self) -> Decimal | None:
        if self.penalties is None or self.indemnities is None:
            return None
        return self.penalties + self.indemnities


def customer_charges(organisation: Organisation, customer: Customer, invoices: list[Invoice],
                     day: date) -> CustomerCharges:
    """Penalties and indemnities to ``day`` of a customer's open invoices: the tables are read
    once, and the number of queries (three) does not depend on the number of invoices."""
    late = [i for i in invoices if i.due_date < day and i.customer_id == customer.pk]
    if not late:
        return CustomerCharges({}, ZERO, ZERO, [], 0)
    for invoice in late:
        invoice.customer = customer  # already loaded: no query per invoice for « is_business »
    charges = dunning.charges_of_invoices(organisation, late, day, rate_tables())
    missing = list(dict.fromkeys(str(c.missing) for c in charges.values() if c.missing is not None))
    if missing:
        penalties = indemnities = None
    else:
        penalties = sum((c.late_charge for c in charges.values()), ZERO)
        indemnities = sum((c.recovery_total for c in charges.values()), ZERO)  # 40 € each, justified costs apart
    return CustomerCharges(charges, penalties, indemnities, missing, len(late))
