"""Rendering a page with what every page shows: the scope, the organisation and its time zone."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relance.ledger import queries as ledger

from .scoping import Scope


def render_page(request: HttpRequest, template: str, sc: Scope, context: dict[str, Any], status: int = 200) -> HttpResponse:
    base = {"scope": sc, "organisation": sc.organisation, "zone": ledger.organisation_zone(sc.organisation)}
    return render(request, template, {**base, **context}, status=status)
