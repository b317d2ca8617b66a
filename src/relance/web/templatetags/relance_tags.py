"""Template filters: ``eur`` (amounts) and ``date_fr`` (long dates), in the active language.

``{% load relance_tags %}`` then ``{{ invoice.amount_due|eur }}``,
``{{ invoice.amount_due|eur:invoice.currency }}``, ``{{ invoice.due_date|date_fr }}``.
French is the default: « 1 234,56 € », « 23 novembre 2026 »; in English (Babel's ``en_GB``,
see ``relance.core.formatting.LOCALES``) « €1,234.56 », « 23 November 2026 ».
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone

from relance.core.formatting import long_date, money, number
from relance.web import labels
from relance.web.language import current_language

register = template.Library()


@register.filter
def eur(value: Any, currency: str = "EUR") -> str:
    """``Decimal("1234.56")`` → ``1 234,56 €`` (Babel, narrow no-break spaces); ``€1,234.56`` in English."""
    if value is None or value == "":
        return ""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    return money(amount, currency or "EUR", current_language())


@register.filter
def date_fr(value: Any) -> str:
    """``date(2026, 11, 1)`` → ``1er novembre 2026`` (``1 November 2026`` in English). An aware
    datetime is first converted to the current time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, date):
        return ""
    return long_date(value, current_language())


@register.filter
def days_late(due: Any, on: Any) -> int:
    """Days between a due date and ``on`` (0 when not late or unknown)."""
    if not isinstance(due, date) or not isinstance(on, date):
        return 0
    return max(0, (on - due).days)


@register.filter
def event_label(kind: str) -> str:
    """Label of an event kind in the active language (the code itself when unknown)."""
    return labels.event_label(kind)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ mapping|get_item:key }}`` — a dict look-up in a template."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def thousands(value: Any) -> str:
    """``9454`` → ``9 454`` (a count; ``9,454`` in English)."""
    try:
        return number(Decimal(value), current_language(), digits=0)
    except (InvalidOperation, TypeError, ValueError):
        return ""


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, param: str, page: int) -> str:
    """The current query string with ``param`` set to ``page``, the other parameters kept
    (``href="{% page_url 'page_planned' 2 %}"``): each list of a page turns its own pages."""
    query = context["request"].GET.copy()
    query[param] = str(page)
    return "?" + query.urlencode()
