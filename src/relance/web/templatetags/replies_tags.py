"""Template helpers of the « Boîte de réception » (issue 15): the navigation's counter of the
replies waiting for a person, and a classifier's confidence as a percentage."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def waiting_replies(sc: Any) -> int:
    """``{% waiting_replies scope as n %}``: the replies ``scope`` sees that wait for a person
    (0 without a scope: the pages outside an organisation)."""
    if not sc:
        return 0
    from relance.web.views_replies import waiting_for

    return waiting_for(sc)


@register.filter
def percent(value: Any) -> str:
    """``Decimal("0.85")`` → ``85 %`` (narrow no-break space, as French writes it)."""
    try:
        ratio = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    return f"{round(ratio * 100)}\u202f%"
