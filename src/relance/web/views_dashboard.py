"""« Tableau de bord » : outstanding and overdue, the aging balance as a chart, DSO,
today's counts and the invoices nearing their limitation (« Prescription »). A fixed number of
aggregate queries whatever the size of the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from relance.clock import today_for
from relance.dunning import queries as dunning
from relance.dunning.models import Reminder
from relance.ledger import queries as ledger
from relance.operations.delivery import not_left

from . import views_litigation as litigation
from .rendering import render_page
from .scoping import Scope, scope

CHART_WIDTH = 560
BAR_HEIGHT = 28
BAR_GAP = 12
LABEL_WIDTH = 140


#: The invoices nearest their limitation the dashboard lists (the « Contentieux » page lists them all).
PRESCRIPTION_ROWS = 5


def _prescription(sc: Scope, day: date) -> dict[str, object]:
    """The « Prescription » block: the invoices whose limitation period ends within 90 days."""
    rows, total, expired = litigation.prescription_rows(sc, day, PRESCRIPTION_ROWS)
    return {"rows": rows, "total": total, "expired": expired, "days": litigation.PRESCRIPTION_DAYS}


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    sc = scope(request)
    org = sc.organisation
    day = today_for(org)
    figures = ledger.receivables(org, day, sc.collector_id)
    buckets = figures.aging
    biggest = max((b.amount for b in buckets), default=Decimal(0)) or Decimal(1)
    usable = CHART_WIDTH - LABEL_WIDTH - 130
    bars = [
        {"bucket": b, "y": i * (BAR_HEIGHT + BAR_GAP), "width": int(usable * b.amount / biggest),
         "text_y": i * (BAR_HEIGHT + BAR_GAP) + BAR_HEIGHT // 2 + 5}
        for i, b in enumerate(buckets)
    ]
    context = {
        "day": day,
        "totals": figures.outstanding,
        "buckets": buckets,
        "bars": bars,
        "chart": {"width": CHART_WIDTH, "height": len(bars) * (BAR_HEIGHT + BAR_GAP), "label_width": LABEL_WIDTH,
                  "bar_height": BAR_HEIGHT},
        "dso": figures.dso,
        "counts": dunning.day_counts(org, day, sc.collector_id),
        "bounce_window_days": dunning.BOUNCE_WINDOW_DAYS,  # « Non distribuées »: permanent bounces
        # failed, waiting for a retry, to check — with their reasons, whatever their day
        "not_left": not_left(ledger.visible(Reminder.objects.filter(organisation=org), sc.collector_id, "customer__")),
        "prescription": _prescription(sc, day),
    }
    return render_page(request, "relance/dashboard.html", sc, context)
