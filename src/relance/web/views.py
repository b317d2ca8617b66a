"""The pages. Views stay thin: they find the current organisation, call the query
functions of ``relance.ledger.queries`` / ``relance.dunning.queries`` (all scoped to
that organisation) and render a template. Every view requires a logged-in user."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relance.clock import today_for
from relance.dunning import queries as dunning
from relance.dunning.services import editing
from relance.errors import RelanceError
from relance.events.services import invoice_timeline, timeline
from relance.ledger import queries as ledger
from relance.ledger.services.members import members
from relance.litigation.queries import live_cases
from relance.operations.delivery import not_left
from relance.profiles.models import PayerProfile
from relance.profiles.queries import customer_profile
from relance.replies import queries as replies

from .labels import event_label
from .rendering import render_page
from .scoping import scope, switch_organisation
from .views_law import customer_charges

CUSTOMERS_PER_PAGE = 50
TIMELINE_LIMIT = 200
#: the replies shown on a customer's page (the inbox, filtered on the customer, has them all)
CUSTOMER_REPLIES = 20


def _parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _page_number(request: HttpRequest, param: str) -> int:
    """A page number from the query string (1 when absent or unreadable)."""
    raw = request.GET.get(param, "")
    return int(raw) if raw.isdigit() else 1


@login_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """« Le travail du jour »: reminders of the day and those still open, counted per status
    and step, a page of each status (``?page_<status>=``); letters to print and calls to
    make, a page each (``?page_letters=``, ``?page_calls=``), and their counts on top. The
    outstanding totals are the dashboard's: this page stays the cost of its own lists."""
    sc = scope(request)
    org = sc.organisation
    asked = request.GET.get("date")
    day = _parse_day(asked)
    bad_date = bool(asked) and day is None
    real_today = today_for(org)
    day = day or real_today
    pages = {s.value: _page_number(request, f"page_{s.value}") for s in dunning.S}
    groups = dunning.day_groups(org, day, sc.collector_id, pages)
    context = {
        "day": day,
        "is_today": day == real_today,
        "bad_date": bad_date,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "groups": groups,
        "awaiting_count": sum(g.count for g in groups if g.status == dunning.S.AWAITING_APPROVAL),
        "labels": dunning.reminder_labels(),
        "reminder_count": sum(g.count for g in groups),
        "failed_count": sum(g.count for g in groups if g.status == dunning.S.FAILED),
        # failed, waiting for a retry, to check — with their reasons (relance.operations.delivery)
        "not_left": not_left(dunning.day_reminders(org, day, sc.collector_id)),
        "letters": dunning.letters_to_print(org, day, sc.collector_id, _page_number(request, "page_letters")),
        "calls": dunning.open_call_tasks(org, day, sc.collector_id, _page_number(request, "page_calls")),
    }
    return render_page(request, "relance/today.html", sc, context)


@login_required
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    """Customers with their amount due, overdue amount and oldest delay, 50 a page: only the
    page's customers get their balances computed when the order and the filters allow it."""
    sc = scope(request)
    org = sc.organisation
    day = today_for(org)
    search = request.GET.get("q", "").strip()
    ordering = request.GET.get("tri", "nom")
    if ordering not in ledger.CUSTOMER_ORDERINGS:
        ordering = "nom"
    filters, chosen, problems = _customer_filters(request, org)
    customers = ledger.customer_listing(org, day, search, ordering, sc.collector_id, filters)
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    kept = {k: v for k, v in {"q": search, "tri": ordering, **chosen}.items() if v}
    context = {
        "day": day,
        "search": search,
        "ordering": ordering,
        "chosen": chosen,
        "hold_filters": dunning.HOLD_FILTERS,
        "profile_filters": [(str(p.pk), p.name) for p in PayerProfile.objects.filter(organisation=org).order_by("position")],
        "querystring": urlencode(kept),
        "orderings": [("nom", _("Nom")), ("du", _("Montant dû")), ("retard", _("Retard"))],
        "page": page,
        "customers": page.object_list,
        "filter_problems": problems,
    }
    return render_page(request, "relance/customers.html", sc, context, status=400 if problems else 200)


# Bounds of the customers' filters: beyond them a number is refused (400) rather than sent to the database
# (NaN, infinities and 10**999 are valid decimals to Python, not to SQLite or PostgreSQL).
MAX_FILTER_AMOUNT = Decimal("1000000000000")  # one thousand billion euros
MAX_FILTER_DAYS = 100 * 366
MAX_FILTER_ID = 2**63 - 1


def _customer_filters(request: HttpRequest, org: Any) -> tuple[ledger.CustomerFilters, dict[str, str], list[str]]:
    """Filters from the query string; unreadable values are ignored (and not echoed back); numbers that
    are not finite or out of bounds are problems (the page answers 400 with them, without that filter)."""
    chosen: dict[str, str] = {}
    problems: list[str] = []
    min_due = None
    raw = request.GET.get("min", "").strip().replace(" ", "").replace("\u202f", "").replace(",", ".")
    if raw:
        try:
            min_due = Decimal(raw)
        except InvalidOperation:
            min_due = None
        if min_due is not None and (not min_due.is_finite() or abs(min_due) > MAX_FILTER_AMOUNT):
            problems.append(_("« Dû au moins » doit être un montant entre -1 000 000 000 000 et "
                              "1 000 000 000 000 € ; le filtre est ignoré."))
            min_due = None
        elif min_due is not None:
            chosen["min"] = request.GET["min"].strip()
    min_late = None
    raw = request.GET.get("retard", "").strip()
    if raw.isdigit():
        if len(raw) > 6 or int(raw) > MAX_FILTER_DAYS:
            problems.append(_("« Retard d’au moins » doit être un nombre de jours entre 0 et %(max)s ; "
                              "le filtre est ignoré.") % {"max": MAX_FILTER_DAYS})
        else:
            min_late, chosen["retard"] = int(raw), raw
    extra = dunning.hold_condition(org, request.GET.get("suspension", ""))
    if extra is not None:
        chosen["suspension"] = request.GET["suspension"]
    raw = request.GET.get("profil", "")
    if raw.isdigit():
        if len(raw) > 19 or int(raw) > MAX_FILTER_ID:
            problems.append(_("Ce profil n’existe pas ; le filtre est ignoré."))
        else:
            by_profile = Q(profile_override__profile_id=int(raw)) | Q(
                profile_override__isnull=True, payer_profile__profile_id=int(raw))
            extra = by_profile if extra is None else extra & by_profile
            chosen["profil"] = raw
    return ledger.CustomerFilters(min_due, min_late, extra), chosen, problems


def collector_forms(org: Any, customer: Any) -> dict[str, Any]:
    from .views_collector import customer_workflow  # it imports this module

    return customer_workflow(org, customer)


def _upcoming(org: Any, customer: Any, reminders: list[Any], chased: list[Any], actions: dict[int, Any],
              day: date) -> dict[str, Any]:
    """The customer's next step and, when it is not planned yet, a preview of its first message
    rendered on the invoices it will list (as the dispatcher would write it today)."""
    upcoming = dunning.upcoming(reminders, dunning.next_plan(org, customer, chased, day, actions))
    preview = None
    step = upcoming.step if upcoming is not None and upcoming.reminder is None else None
    if upcoming is not None and step is not None and step.template in editing.template_keys(org):
        try:
            preview = editing.preview(org, step.template, customer.language, day, customer=customer,
                                      invoices=upcoming.invoices)
        except RelanceError:
            preview = None  # a template being repaired: the step still shows, without its text
    return {"upcoming": upcoming, "upcoming_preview": preview}


@login_required
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sc = scope(request)
    org = sc.organisation
    day = today_for(org)
    customer = ledger.customer_for(org, pk, sc.collector_id)
    invoices = ledger.customer_invoices(org, customer)
    events = list(timeline(org, customer.pk)[:TIMELINE_LIMIT])
    numbers = {i.pk: i.number for i in invoices}
    missing = {e.invoice_id_ref for e in events if e.invoice_id_ref and e.invoice_id_ref not in numbers}
    numbers.update(ledger.invoice_numbers(org, missing))
    entries = [
        {
            "event": e,
            "label": event_label(e.kind),
            "invoice": numbers.get(e.invoice_id_ref) if e.invoice_id_ref else None,
        }
        for e in events
    ]
    open_invoices = [i for i in invoices if i.status == i.Status.OPEN]
    holds = dunning.active_holds(org, customer)
    # a pause past its date no longer holds (the planner expires it on its next run)
    held = dunning.holds_by_invoice([h for h in holds if h.until is None or h.until >= day], open_invoices)
    chased = [i for i in open_invoices if i.pk not in held]
    actions = dunning.next_actions(org, customer, chased, day)
    steps = {pk: step for pk, (step, _) in actions.items()}
    next_dates = {pk: max(on, day) for pk, (_, on) in actions.items()}  # a past date is due now
    reminders = dunning.customer_reminders(org, customer)
    context = {
        "day": day,
        "customer": customer,
        "contacts": list(customer.contacts.all()),
        "open_invoices": open_invoices,
        "closed_invoices": [i for i in invoices if i.status != i.Status.OPEN],
        "next_steps": steps,
        "next_dates": next_dates,
        "cases": live_cases(open_invoices),
        "held": held,
        "charges": customer_charges(org, customer, open_invoices, day),
        "totals": ledger.totals_of(invoices, day),
        "holds": holds,
        "reminders": reminders,
        **_upcoming(org, customer, reminders, chased, actions, day),
        "timeline": entries,
        "timeline_truncated": len(events) == TIMELINE_LIMIT,
        "replies": list(replies.inbox(org, customer_id=customer.pk)[:CUSTOMER_REPLIES]),
        "assignable": members(org) if sc.is_admin else [],
        "profile_card": customer_profile(org, customer, day),
        **collector_forms(org, customer),
        "profiles": list(PayerProfile.objects.filter(organisation=org).order_by("position")) if sc.can_edit else [],
    }
    return render_page(request, "relance/customer.html", sc, context)


@login_required
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One invoice: amounts, lettering, penalties to date, holds, reminders, its events."""
    sc = scope(request)
    org = sc.organisation
    day = today_for(org)
    invoice = ledger.invoice_for(org, pk, sc.collector_id)
    charges = customer_charges(org, invoice.customer, [invoice] if invoice.status == invoice.Status.OPEN else [], day)
    events = list(invoice_timeline(org, invoice.pk)[:TIMELINE_LIMIT])
    holds = dunning.invoice_holds(org, invoice)
    held = any(h.state == h.State.ACTIVE and (h.until is None or h.until >= day) for h in holds)
    action = None if held else dunning.next_actions(org, invoice.customer, [invoice], day).get(invoice.pk)
    context = {
        "day": day,
        "invoice": invoice,
        "case": live_cases([invoice]).get(invoice.pk),
        "next_step": action[0] if action else None,
        "next_on": max(action[1], day) if action else None,
        "customer": invoice.customer,
        "allocations": ledger.invoice_allocations(invoice),
        "charge": charges.by_invoice.get(invoice.pk),
        "charges": charges,
        "holds": holds,
        "reminders": dunning.invoice_reminders(org, invoice),
        "timeline": [{"event": e, "label": event_label(e.kind), "invoice": invoice.number} for e in events],
        "timeline_truncated": len(events) == TIMELINE_LIMIT,
    }
    return render_page(request, "relance/invoice.html", sc, context)


@login_required
@require_GET
def reminder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sc = scope(request)
    reminder = dunning.reminder_for(sc.organisation, pk, sc.collector_id)
    lines = dunning.reminder_lines(reminder)
    total = sum(
        ((line.amount_due if line.amount_due is not None else line.invoice.amount_due) for line in lines),
        ledger.ZERO,
    )
    context = {"reminder": reminder, "lines": lines, "total": total}
    return render_page(request, "relance/reminder.html", sc, context)


@login_required
@require_GET
def reminder_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """The letter exactly as it was produced (``Reminder.document``)."""
    sc = scope(request)
    reminder = dunning.reminder_for(sc.organisation, pk, sc.collector_id)
    if not reminder.document:
        raise Http404("Pas de courrier pour cette relance.")
    try:
        handle = reminder.document.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("Fichier du courrier introuvable.") from exc
    filename = f"relance-{reminder.customer.code}-{reminder.planned_for.isoformat()}-{reminder.pk}.pdf"
    return FileResponse(handle, content_type="application/pdf", as_attachment=False, filename=filename)


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponseRedirect:
    """Change the current organisation (only to one the user is a member of)."""
    try:
        org_id = int(request.POST.get("organisation", ""))
    except ValueError as exc:
        raise Http404("Organisation inconnue.") from exc
    switch_organisation(request, org_id)
    target = request.POST.get("next") or reverse("web:today")
    hosts = {request.get_host()}
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure()):
        target = reverse("web:today")
    return HttpResponseRedirect(target)
