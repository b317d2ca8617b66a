"""« Contentieux »: the litigation cases and what a person does with them.

* the list, filtered by state (with counts), each case's next action, what it owes today and its
  documents; the exports (cases in CSV or JSON, write-offs in CSV or as FEC entries); the
  invoices whose limitation period ends soon (« Prescription à surveiller »);
* one case: its invoices, formal notices and their proof, the amounts it claims to date element
  by element with their bases (C. proc. civ. 1407), its documents, the court (art. 1406), the
  steps of the injonction de payer (request filed, order issued, order served), the hand-over
  to a recipient and the closing;
* the recipients the cases are handed to (« Destinataires »).

Thin views over ``litigation.queries``, ``litigation.claim`` and ``litigation.services``: they
parse the form, call one service and come back to the page with a message (errors in French,
nothing saved half-way). Read-only members see but cannot act; a restricted collector sees only
their customers' cases (and neither the organisation-wide write-offs)."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from datetime import date
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relance.actors import actor_of
from relance.clock import today_for
from relance.core import litigation as machine
from relance.errors import InvalidInput, NotFound, RelanceError
from relance.events.models import Event
from relance.ledger.models import Customer, Organisation
from relance.ledger.queries import visible
from relance.litigation import claim as claims
from relance.litigation import exports, prescription, queries, writeoffs
from relance.litigation import services as litigation
from relance.litigation.models import CaseDocument, Handover, HandoverRecipient, LitigationCase

from .labels import event_label
from .rendering import render_page
from .scoping import Scope, scope
from .uploads import read_upload
from .views_collector import _acting_scope, _date, _fail

CASES_PER_PAGE = 50
#: How far ahead the list and the dashboard look for limitation periods ending.
PRESCRIPTION_DAYS = 90
#: Rows of the « Prescription à surveiller » block shown on the list (the dashboard shows fewer).
PRESCRIPTION_ROWS = 100
MAX_DOCUMENT = 20 * 1024 * 1024

#: The steps of the injonction de payer a form records, in order.
STEPS = (machine.State.REQUEST_FILED, machine.State.ORDER_ISSUED, machine.State.SERVED)
#: The document a step's form uploads (the order, the act of service).
STEP_DOCUMENTS = {machine.State.ORDER_ISSUED: CaseDocument.Kind.ORDER, machine.State.SERVED: CaseDocument.Kind.SERVICE}
#: The kinds of document a person may add by hand (the produced ones come from « Produire »).
UPLOAD_KINDS = (CaseDocument.Kind.ORDER, CaseDocument.Kind.SERVICE, CaseDocument.Kind.OTHER)
#: What the service takes from an upload (PDF, PNG, JPEG): the file picker's filter.
ACCEPT = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


#: The texts of ``core.litigation.NEXT_ACTIONS`` and of the claim's elements
#: (``litigation.claim.Claim.elements``), marked here for the catalogue (``core`` knows no
#: Django): the pages translate them when they show them. A test checks they stay the same.
NEXT_ACTION_TEXTS = (
    gettext_noop("Produire le dossier de recouvrement et la requête, puis transmettre le dossier ou déposer "
                 "la requête au greffe."),
    gettext_noop("Suivre le dossier auprès de son destinataire ; enregistrer le dépôt de la requête."),
    gettext_noop("Attendre l’ordonnance du juge (C. proc. civ. art. 1409) ; l’enregistrer à réception."),
    gettext_noop("Faire signifier l’ordonnance par un commissaire de justice dans les six mois de sa date "
                 "(C. proc. civ. art. 1411)."),
    gettext_noop("Sans opposition dans le mois de la signification (art. 1416), l’ordonnance, déjà revêtue de la "
                 "formule exécutoire, peut être exécutée par un commissaire de justice."),
)
CLAIM_LABELS = (
    gettext_noop("Principal (factures restant dues)"),
    gettext_noop("Pénalités de retard"),
    gettext_noop("Indemnité forfaitaire pour frais de recouvrement"),
    gettext_noop("Frais de recouvrement justifiés au-delà de l’indemnité"),
    gettext_noop("Intérêts de retard"),
)


def suggested_court(organisation: Organisation, customer: Customer) -> str:
    """The court an injonction de payer goes to, as a suggestion the person confirms: the
    president of the tribunal de commerce for a claim between merchants or between craftsmen
    (C. proc. civ. 1406, C. com. L721-3), otherwise the tribunal judiciaire; both of the place
    where the debtor lives. relance knows whether the customer is a business, not whether it is
    a merchant (a liberal profession, a farmer, an association… go to the tribunal judiciaire):
    the page says so."""
    if customer.is_business and not organisation.creditor_is_individual:
        return LitigationCase.Court.COMMERCE
    return LitigationCase.Court.JUDICIAIRE


def _next_action(state: str) -> str:
    text = machine.NEXT_ACTIONS.get(state, "")
    return _(text) if text else ""


# ------------------------------------------------------------------------------------------
# The list
# ------------------------------------------------------------------------------------------


def _document_counts(case_ids: list[int]) -> dict[int, int]:
    """How many documents each case holds (one query)."""
    if not case_ids:
        return {}
    return dict(CaseDocument.objects.filter(case_id__in=case_ids).values("case_id").annotate(n=Count("pk"))
                .values_list("case_id", "n"))


def prescription_rows(sc: Scope, day: date, limit: int) -> tuple[list[prescription.PrescriptionRow], int, int]:
    """The invoices whose limitation period ends within :data:`PRESCRIPTION_DAYS` (or has ended),
    soonest first: (the first ``limit`` rows, how many in all, how many already ended)."""
    rows = prescription.watch(sc.organisation, day, days=PRESCRIPTION_DAYS, collector_id=sc.collector_id)
    return rows[:limit], len(rows), sum(1 for r in rows if r.days_left < 0)


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    sc = scope(request)
    org = sc.organisation
    day = today_for(org)
    state = request.GET.get("etat", "")
    if state not in queries.STATES:
        state = ""
    page = Paginator(queries.cases(org, state, sc.collector_id), CASES_PER_PAGE).get_page(request.GET.get("page"))
    counts = queries.state_counts(org, sc.collector_id)
    rows = queries.rows(org, page.object_list)
    documents = _document_counts([row.case.pk for row in rows])
    watched, watched_total, expired = prescription_rows(sc, day, PRESCRIPTION_ROWS)
    context = {
        "day": day,
        "state": state,
        "states": [(value, label, counts[value]) for value, label in LitigationCase.State.choices],
        "total": sum(counts.values()),
        "page": page,
        "rows": [{"row": row, "next_action": _next_action(row.case.state), "documents": documents.get(row.case.pk, 0)}
                 for row in rows],
        "querystring": f"etat={state}" if state else "",
        "export_query": f"?etat={state}" if state else "",
        "can_export_writeoffs": sc.collector_id is None,
        "year_start": day.replace(month=1, day=1),
        "prescription": {"rows": watched, "total": watched_total, "expired": expired, "days": PRESCRIPTION_DAYS},
    }
    return render_page(request, "relance/litigation.html", sc, context)


# ------------------------------------------------------------------------------------------
# Exports
# ------------------------------------------------------------------------------------------


def _download(content: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _export_state(request: HttpRequest) -> str:
    state = request.GET.get("etat", "")
    if state and state not in queries.STATES:
        raise Http404(_("État inconnu."))
    return state


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """The cases (one state, or all) in CSV, for a spreadsheet or a lawyer's tool."""
    sc = scope(request)
    state = _export_state(request)
    name = f"contentieux-{sc.organisation.slug}-{state or 'tous'}-{today_for(sc.organisation):%Y%m%d}.csv"
    return _download(exports.cases_csv(sc.organisation, state, sc.collector_id), "text/csv; charset=utf-8", name)


@login_required
@require_GET
def export_json(request: HttpRequest) -> JsonResponse:
    """The cases (one state, or all) in JSON (amounts as strings, dates ISO 8601)."""
    sc = scope(request)
    state = _export_state(request)
    response = JsonResponse(exports.cases_json(sc.organisation, state, sc.collector_id), safe=False,
                            json_dumps_params={"ensure_ascii": False})
    name = f"contentieux-{sc.organisation.slug}-{state or 'tous'}-{today_for(sc.organisation):%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _period(request: HttpRequest, sc: Scope) -> tuple[date, date]:
    """``du`` and ``au`` (AAAA-MM-JJ) of a write-offs export; by default the year to date."""
    day = today_for(sc.organisation)
    found = []
    for name, default in (("du", day.replace(month=1, day=1)), ("au", day)):
        raw = request.GET.get(name, "").strip()
        try:
            found.append(date.fromisoformat(raw) if raw else default)
        except ValueError:
            raise InvalidInput(_("date illisible « %(raw)s » (attendu AAAA-MM-JJ)") % {"raw": raw}) from None
    since, until = found
    if since > until:
        raise InvalidInput(_("la période commence après sa fin"))
    return since, until


def _writeoffs(request: HttpRequest, render: Callable[[Organisation, date, date], str], suffix: str,
               content_type: str) -> HttpResponse:
    sc = scope(request)
    if sc.collector_id is not None:
        # the write-offs are the organisation's, not one collector's customers
        raise PermissionDenied(_("Les créances irrécouvrables de toute l’organisation ne sont pas visibles "
                                 "depuis votre accès."))
    try:
        since, until = _period(request, sc)
    except RelanceError as exc:
        _fail(request, exc)
        return HttpResponseRedirect(reverse("web:litigation") + "#irrecouvrables")
    name = f"irrecouvrables-{sc.organisation.slug}-{since:%Y%m%d}-{until:%Y%m%d}{suffix}"
    return _download(render(sc.organisation, since, until), content_type, name)


@login_required
@require_GET
def writeoffs_csv(request: HttpRequest) -> HttpResponse:
    """The invoices written off as irrecoverable over a period (CSV)."""
    return _writeoffs(request, writeoffs.writeoffs_csv, ".csv", "text/csv; charset=utf-8")


@login_required
@require_GET
def writeoffs_fec(request: HttpRequest) -> HttpResponse:
    """The same write-offs as accounting entries in the FEC layout (A47 A-1 LPF), to import."""
    return _writeoffs(request, writeoffs.writeoffs_fec, ".fec.txt", "text/plain; charset=utf-8")


# ------------------------------------------------------------------------------------------
# One case
# ------------------------------------------------------------------------------------------


def _step_forms(case: LitigationCase) -> list[dict[str, Any]]:
    """The procedure's steps the case may take now (those the machine allows from its state)."""
    allowed = machine.allowed_targets(case.state)
    return [{"target": str(step), "label": LitigationCase.State(step).label,
             "document": str(STEP_DOCUMENTS.get(step, ""))} for step in STEPS if step in allowed]


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sc = scope(request)
    org = sc.organisation
    day = today_for(org)
    try:
        detail = queries.case_detail(org, pk, sc.collector_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    case = detail.row.case
    numbers = {line.invoice.pk: line.invoice.number for line in detail.row.lines}
    claim = claims.claim_for(org, case, day)
    suggested = suggested_court(org, case.customer)
    handovers = list(case.handovers.select_related("recipient").prefetch_related("documents"))
    events = _with_handover_emails(org, detail.events, handovers)
    context = {
        "day": day,
        "case": case,
        "row": detail.row,
        "next_action": _next_action(case.state),
        "claim": claim,
        "elements": [(_(label), amount, basis) for label, amount, basis in claim.elements()],
        "documents": _documents(case),
        "handovers": handovers,
        "recipients": list(HandoverRecipient.objects.filter(organisation=org, active=True)),
        "methods": Handover.Method.choices,
        # the way the case's recipient asked for its files, if it has one
        "default_method": (Handover.Method.LINK if case.recipient is not None
                           and case.recipient.delivery == HandoverRecipient.Delivery.LINK
                           else Handover.Method.ATTACHMENT),
        "courts": LitigationCase.Court.choices,
        "court_kind": case.court_kind or suggested,
        "suggested_court": suggested,
        "suggested_court_label": LitigationCase.Court(suggested).label,
        "steps": _step_forms(case),
        "upload_kinds": [(k.value, k.label) for k in UPLOAD_KINDS],
        "accept": ACCEPT,
        "outcomes": LitigationCase.Outcome.choices,
        "can_file": case.state == machine.State.OPENED,
        "timeline": [{"event": e, "label": event_label(e.kind), "invoice": numbers.get(e.invoice_id_ref or 0)}
                     for e in events],
        "timeline_truncated": len(detail.events) == queries.TIMELINE_LIMIT,
    }
    return render_page(request, "relance/litigation_case.html", sc, context)


#: The documents relance produces (again at each « Produire »: the newest of each kind is the one sent).
PRODUCED = frozenset({CaseDocument.Kind.EVIDENCE_PDF, CaseDocument.Kind.EVIDENCE_ZIP, CaseDocument.Kind.REQUEST,
                      CaseDocument.Kind.SMALL_CLAIM})


def _documents(case: LitigationCase) -> list[dict[str, Any]]:
    """The case's documents, newest first, each produced one older than another of its kind
    marked ``superseded`` (one query)."""
    seen: set[str] = set()
    found = []
    for doc in case.documents.order_by("-created_at", "-pk"):
        found.append({"doc": doc, "superseded": doc.kind in PRODUCED and doc.kind in seen})
        seen.add(doc.kind)
    return found


def _with_handover_emails(org: Organisation, events: list[Event], handovers: list[Handover]) -> list[Event]:
    """The case's events and those of the emails that handed it over (planned, sent, failed…:
    they name their reminder, not the case), newest first (one query)."""
    ids = [h.reminder_id for h in handovers if h.reminder_id is not None]
    if not ids:
        return events
    seen = {e.seq for e in events}
    more = Event.objects.filter(organisation=org, reminder_id_ref__in=ids).order_by("-seq")[:queries.TIMELINE_LIMIT]
    return sorted([*events, *(e for e in more if e.seq not in seen)], key=lambda e: e.seq, reverse=True)


@login_required
@require_GET
def case_document(request: HttpRequest, pk: int, doc_pk: int) -> FileResponse:
    """One document of a case, to the members of its organisation (and, for a restricted
    collector, of their customers' cases) only; always as a download, never shown inline."""
    sc = scope(request)
    documents = visible(CaseDocument.objects.filter(case__organisation=sc.organisation), sc.collector_id,
                        "case__customer__")
    document = documents.filter(pk=doc_pk, case_id=pk).first()
    if document is None or not document.file:
        raise Http404(_("Document introuvable."))
    name = PurePath(document.file.name).name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(document.file.open("rb"), as_attachment=True, filename=name, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def handover_bundle(request: HttpRequest, pk: int, handover_pk: int) -> HttpResponse:
    """The ZIP of one hand-over (its documents and the originals with their manifest), to the
    members of the organisation: what « téléchargé » hands over."""
    sc = scope(request)
    handovers = visible(Handover.objects.filter(case__organisation=sc.organisation), sc.collector_id,
                        "case__customer__")
    handover = handovers.select_related("case").filter(pk=handover_pk, case_id=pk).first()
    if handover is None:
        raise Http404(_("Remise introuvable."))
    try:
        name, content = litigation.bundle(handover.case, list(handover.documents.order_by("pk")))
    except RelanceError as exc:
        raise Http404(exc.message) from exc
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _upload(request: HttpRequest, field: str) -> tuple[str, bytes] | None:
    return read_upload(request, field, MAX_DOCUMENT, "document", _("document trop lourd (20 Mo au plus)"))


def _file(request: HttpRequest, org: Organisation, case: LitigationCase) -> str:
    on = _date(request, "on", _("Date de transmission"))
    assert on is not None
    litigation.file_case(org, case, actor=actor_of(request), on=on, handled_by=request.POST.get("handled_by", ""),
                         note=request.POST.get("note", ""))
    return _("Dossier marqué comme transmis à %(who)s.") % {"who": request.POST.get("handled_by", "").strip()}


def _close(request: HttpRequest, org: Organisation, case: LitigationCase) -> str:
    on = _date(request, "on", _("Date de clôture"))
    assert on is not None
    outcome = request.POST.get("outcome", "")
    if not outcome:
        raise InvalidInput(_("choisissez l’issue du dossier"))
    litigation.close_case(org, case, outcome=outcome, actor=actor_of(request), on=on, note=request.POST.get("note", ""))
    if outcome == LitigationCase.Outcome.ABANDONED:
        return _("Dossier clôturé : ses factures encore dues ne seront plus relancées.")
    if outcome == LitigationCase.Outcome.IRRECOVERABLE:
        return _("Dossier clôturé comme irrécouvrable : ses factures encore dues ne seront plus relancées et "
                 "figurent dans l’export des créances irrécouvrables.")
    return _("Dossier clôturé.")


def _produce(request: HttpRequest, org: Organisation, case: LitigationCase) -> str:
    produced = litigation.produce_documents(org, case, actor=actor_of(request), as_of=today_for(org))
    return _("Documents produits : %(titles)s.") % {"titles": ", ".join(d.title for d in produced)}


def _court(request: HttpRequest, org: Organisation, case: LitigationCase) -> str:
    litigation.set_court(org, case, court_kind=request.POST.get("court_kind", ""),
                         court_name=request.POST.get("court_name", ""),
                         court_address=request.POST.get("court_address", ""), actor=actor_of(request))
    return _("Juridiction enregistrée.")


def _step(request: HttpRequest, org: Organisation, case: LitigationCase) -> str:
    target = request.POST.get("target", "")
    if target not in STEPS:
        raise InvalidInput(_("étape inconnue : « %(target)s »") % {"target": target})
    on = _date(request, "on", _("Date"))
    assert on is not None
    litigation.record_step(org, case, target, actor=actor_of(request), on=on, note=request.POST.get("note", ""),
                           court_kind=request.POST.get("court_kind", ""), court_name=request.POST.get("court_name", ""),
                           court_address=request.POST.get("court_address", ""),
                           court_reference=request.POST.get("court_reference", ""),
                           document=_upload(request, "document"))
    return _("Étape enregistrée : %(step)s.") % {"step": LitigationCase.State(target).label}


def _hand_over(request: HttpRequest, org: Organisation, case: LitigationCase) -> str:
    raw = request.POST.get("recipient", "").strip()
    if raw and not raw.isdigit():
        raise InvalidInput(_("destinataire inconnu"))
    on = _date(request, "on", _("Date de transmission"))
    assert on is not None
    handover = litigation.hand_over(org, case, recipient=int(raw) if raw else None,
                                    method=request.POST.get("method", ""), actor=actor_of(request), on=on)
    who = handover.recipient.name if handover.recipient is not None else _("vous-même")
    if handover.method == handover.Method.DOWNLOAD:
        return _("Remise du dossier enregistrée (pour %(who)s) : téléchargez son ZIP sous « Remise du dossier ».") % {
            "who": who}
    return _("Dossier confié à la file d’envoi pour %(who)s : l’e-mail part dès qu’un worker tourne "
             "(« relance worker »), une seule fois.") % {"who": who}


def _add_document(request: HttpRequest, org: Organisation, case: LitigationCase) -> str:
    found = _upload(request, "document")
    if found is None:
        raise InvalidInput(_("choisissez le fichier à ajouter"))
    filename, content = found
    document = litigation.add_document(org, case, kind=request.POST.get("kind", CaseDocument.Kind.OTHER),
                                       filename=filename, content=content, actor=actor_of(request),
                                       title=request.POST.get("title", ""))
    return _("Document ajouté : %(title)s.") % {"title": document.title}


ACTIONS: dict[str, tuple[Callable[[HttpRequest, Organisation, LitigationCase], str], str]] = {
    "transmettre": (_file, "actions"),
    "cloturer": (_close, "actions"),
    "produire": (_produce, "documents"),
    "juridiction": (_court, "juridiction"),
    "etape": (_step, "procedure"),
    "remettre": (_hand_over, "remise"),
    "document": (_add_document, "documents"),
}


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponseRedirect:
    sc = _acting_scope(request)
    org = sc.organisation
    try:
        case = queries.case_for(org, pk, sc.collector_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if action not in ACTIONS:
        raise Http404("Action inconnue.")
    act, anchor = ACTIONS[action]
    try:
        messages.success(request, act(request, org, case))
    except RelanceError as exc:
        _fail(request, exc)
    return HttpResponseRedirect(reverse("web:litigation_case", kwargs={"pk": case.pk}) + f"#{anchor}")


# ------------------------------------------------------------------------------------------
# Recipients
# ------------------------------------------------------------------------------------------


def _recipient_pk(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404(_("Destinataire introuvable."))
    return int(raw)


@login_required
@require_http_methods(["GET", "POST"])
def recipients(request: HttpRequest) -> HttpResponse:
    """Who the organisation hands its cases to: the list, and a form to add one or change one
    (``?modifier=<id>``)."""
    sc = scope(request) if request.method == "GET" else _acting_scope(request)
    org = sc.organisation
    everyone = list(HandoverRecipient.objects.filter(organisation=org).annotate(n_cases=Count("cases")))
    if request.method == "POST":
        pk = _recipient_pk(request.POST.get("pk", ""))
        if pk is not None and not any(r.pk == pk for r in everyone):
            raise Http404(_("Destinataire introuvable."))
        try:
            days = request.POST.get("link_days", "").strip() or "14"
            if not days.isdigit():
                raise InvalidInput(_("validité du lien : un nombre de jours"))
            saved = litigation.save_recipient(
                org, pk=pk, kind=request.POST.get("kind", ""), name=request.POST.get("name", ""),
                email=request.POST.get("email", ""), address=request.POST.get("address", ""),
                reference=request.POST.get("reference", ""),
                delivery=request.POST.get("delivery", HandoverRecipient.Delivery.ATTACHMENT),
                link_days=int(days), active=request.POST.get("active") == "on", actor=actor_of(request))
        except RelanceError as exc:
            _fail(request, exc)
            back = reverse("web:litigation_recipients") + (f"?modifier={pk}" if pk else "")
            return HttpResponseRedirect(back + "#formulaire")
        messages.success(request, _("Destinataire enregistré : %(name)s.") % {"name": saved.name})
        return HttpResponseRedirect(reverse("web:litigation_recipients"))
    editing = None
    wanted = request.GET.get("modifier", "")
    if wanted:
        pk = _recipient_pk(wanted)
        editing = next((r for r in everyone if r.pk == pk), None)
        if editing is None:
            raise Http404(_("Destinataire introuvable."))
    context = {
        "recipients": everyone,
        "editing": editing,
        "kinds": HandoverRecipient.Kind.choices,
        "deliveries": HandoverRecipient.Delivery.choices,
    }
    return render_page(request, "relance/litigation_recipients.html", sc, context)
