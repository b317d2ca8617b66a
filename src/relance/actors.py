"""Who did something, as the event log writes it (``Event.actor``).

A page writes « web:alice », the Django admin « admin:alice », the command line « cli » or
« cli:alice », the scheduler and the workers their own names. This module sits below every app
(as :mod:`relance.clock`), so that the admin of an app and the web pages share it without an
app importing the web layer.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest


def actor_of(request: HttpRequest, via: Literal["web", "admin"] = "web") -> str:
    """The actor of a request: ``via`` (the web pages or the admin), a colon, the user's name."""
    return f"{via}:{request.user.get_username()}"
