"""« Contentieux »: the litigation cases (list, filtered by state) and one case — its invoices,
formal notices and their proof of delivery, its events — with « Marquer comme transmis » and
« Clôturer ». Thin views over ``litigation.queries`` and ``litigation.services``; read-only
members see but cannot act, a restricted collector sees only their customers' cases."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from relance.actors import actor_of
from relance.clock import today_for
from relance.errors import InvalidInput, NotFound, RelanceError
from relance.litigation import queries
from relance.litigation import services as litigation
from relance.litigation.models import LitigationCase

from .labels import event_label
from .rendering import render_page
from .scoping import scope
from .views_collector import _acting_scope, _date, _fail

CASES_PER_PAGE = 50


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    sc = scope(request)
    org = sc.organisation
    state = request.GET.get("etat", "")
    if state not in queries.STATES:
        state = ""
    page = Paginator(queries.cases(org, state, sc.collector_id), CASES_PER_PAGE).get_page(request.GET.get("page"))
    counts = queries.state_counts(org, sc.collector_id)
    context = {
        "state": state,
        "states": [(value, label, counts[value]) for value, label in LitigationCase.State.choices],
        "total": sum(counts.values()),
        "page": page,
        "rows": queries.rows(org, page.object_list),
        "querystring": f"etat={state}" if state else "",
    }
    return render_page(request, "relance/litigation.html", sc, context)


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sc = scope(request)
    org = sc.organisation
    try:
        detail = queries.case_detail(org, pk, sc.collector_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    numbers = {line.invoice.pk: line.invoice.number for line in detail.row.lines}
    context = {
        "day": today_for(org),
        "case": detail.row.case,
        "row": detail.row,
        "outcomes": LitigationCase.Outcome.choices,
        "timeline": [{"event": e, "label": event_label(e.kind), "invoice": numbers.get(e.invoice_id_ref or 0)}
                     for e in detail.events],
        "timeline_truncated": len(detail.events) == queries.TIMELINE_LIMIT,
    }
    return render_page(request, "relance/litigation_case.html", sc, context)


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponseRedirect:
    sc = _acting_scope(request)
    org = sc.organisation
    try:
        case = queries.case_for(org, pk, sc.collector_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    note = request.POST.get("note", "")
    try:
        if action == "transmettre":
            on = _date(request, "on", _("Date de transmission"))
            assert on is not None
            litigation.file_case(org, case, actor=actor_of(request), on=on,
                                 handled_by=request.POST.get("handled_by", ""), note=note)
            messages.success(request, _("Dossier marqué comme transmis à %(who)s.")
                             % {"who": request.POST.get("handled_by", "").strip()})
        elif action == "cloturer":
            on = _date(request, "on", _("Date de clôture"))
            assert on is not None
            outcome = request.POST.get("outcome", "")
            if not outcome:
                raise InvalidInput(_("choisissez l’issue du dossier"))
            litigation.close_case(org, case, outcome=outcome, actor=actor_of(request), on=on, note=note)
            if outcome == LitigationCase.Outcome.ABANDONED:
                messages.success(request, _("Dossier clôturé : ses factures encore dues ne seront plus relancées."))
            else:
                messages.success(request, _("Dossier clôturé."))
        else:
            raise Http404("Action inconnue.")
    except RelanceError as exc:
        _fail(request, exc)
    return HttpResponseRedirect(reverse("web:litigation_case", kwargs={"pk": case.pk}))
