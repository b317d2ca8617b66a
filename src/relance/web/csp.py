"""The Content-Security-Policy header of every HTML page (docs/security.md).

Scripts only from our own static files (no inline script, no ``eval``); styles from our files and the
pages' own ``<style>``/``style=`` (the message previews are customer HTML in sandboxed ``srcdoc``
frames, which inherit this policy); images from ourselves and ``data:`` (QR codes, logos); nothing may
frame a page but the application itself; forms post only to the application.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])


class ContentSecurityPolicyMiddleware:
    """Adds :data:`POLICY` to HTML responses that do not set their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = POLICY
        return response
