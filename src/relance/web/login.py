"""The login page's answer when django-axes locks a username and address out (docs/security.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict[str, Any] | None = None) -> HttpResponse:
    """The login page again, with the lockout explained, status 429 (Too Many Requests)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request, data=None, initial={"username": (credentials or {}).get("username", "")})
    response = TemplateResponse(request, "registration/login.html",
                                {"form": form, "locked_out": True, "lockout_minutes": minutes,
                                 "next": request.POST.get("next", "") if request.method == "POST" else ""},
                                status=429)
    response.render()
    return response


def client_address(request: HttpRequest) -> str:
    """The address a lockout counts against. Behind the HTTPS proxy (RELANCE_HTTPS=1) every request comes
    from the proxy, which appends the client's address to X-Forwarded-For: its last entry is the one the
    proxy saw (the others are the client's own words). Otherwise the socket's address."""
    if settings.HTTPS:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return str(request.META.get("REMOTE_ADDR", ""))
