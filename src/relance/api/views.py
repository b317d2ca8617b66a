"""JSON API, scoped to the current organisation like the pages.

Errors are JSON too: 401 for an anonymous caller (never a redirect to the login page),
403 for a user who belongs to no organisation, 404 for anything outside the
organisation. Amounts are strings with two decimals (``"1234.56"``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from relance.clock import today_for
from relance.core.money import to_cents
from relance.ledger import queries as ledger
from relance.web.scoping import scope

View = Callable[..., HttpResponse]


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})


def api_login_required(view: View) -> View:
    """Like ``login_required`` but answers 401 JSON, and turns 403/404 into JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _error("Authentification requise.", 401)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return _error(str(exc) or "Accès refusé.", 403)
        except Http404:
            return _error("Introuvable.", 404)

    return wrapper


def _amount(value: Decimal | None) -> str:
    return str(to_cents(value if value is not None else ledger.ZERO))


def _json(data: dict[str, Any]) -> JsonResponse:
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@api_login_required
@require_GET
def customers(request: HttpRequest) -> JsonResponse:
    """``GET /api/customers[?q=…]``: every customer of the organisation with its balance."""
    sc = scope(request)
    org = sc.organisation
    on = today_for(org)
    rows = ledger.customer_balances(org, on, request.GET.get("q", ""), sc.collector_id)
    items = [
        {
            "id": row["id"],
            "code": row["code"],
            "name": row["legal_name"],
            "is_business": row["is_business"],
            "amount_due": _amount(row["amount_due"]),
            "overdue": _amount(row["overdue"]),
            "currency": ledger.DEFAULT_CURRENCY,
        }
        for row in rows
    ]
    return _json({"customers": items, "count": len(items)})


@api_login_required
@require_GET
def customer(request: HttpRequest, pk: int) -> JsonResponse:
    """``GET /api/customers/<id>``: one customer, its balance and its invoices."""
    sc = scope(request)
    org = sc.organisation
    on = today_for(org)
    c = ledger.customer_for(org, pk, sc.collector_id)
    invoices = ledger.customer_invoices(org, c)
    totals = ledger.totals_of(invoices, on)
    return _json(
        {
            "id": c.pk,
            "code": c.code,
            "name": c.legal_name,
            "is_business": c.is_business,
            "siren": c.siren,
            "amount_due": _amount(totals.amount_due),
            "overdue": _amount(totals.overdue),
            "currency": ledger.DEFAULT_CURRENCY,
            "invoices": [
                {
                    "id": i.pk,
                    "number": i.number,
                    "issue_date": i.issue_date.isoformat(),
                    "due_date": i.due_date.isoformat(),
                    "amount_incl_tax": _amount(i.amount_incl_tax),
                    "amount_due": _amount(i.amount_due),
                    "currency": i.currency,
                    "status": i.status,
                    "days_late": i.days_late(on) if i.status == i.Status.OPEN else 0,
                    "next_action_date": i.next_action_date.isoformat() if i.next_action_date else None,
                }
                for i in invoices
            ],
            "count": len(invoices),
        }
    )
