"""What the inbox shows: the replies, those waiting for a person first."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from relance.ledger.models import Organisation

from .models import Reply

#: the order of the inbox: what waits for a person first
STATE_ORDER = Case(When(state=Reply.State.TO_REVIEW, then=Value(0)), When(state=Reply.State.TO_ATTACH, then=Value(1)),
                   default=Value(2), output_field=IntegerField())


def inbox(organisation: Organisation, *, state: str | None = None, customer_id: int | None = None) -> QuerySet[Reply]:
    qs = Reply.objects.filter(organisation=organisation).select_related("customer", "reminder")
    if state:
        qs = qs.filter(state=state)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs.annotate(waiting=STATE_ORDER).order_by("waiting", "-received_at", "-pk")


def waiting_count(organisation: Organisation) -> int:
    """Replies a person has to handle (to review or to attach)."""
    return Reply.objects.filter(organisation=organisation,
                                state__in=[Reply.State.TO_REVIEW, Reply.State.TO_ATTACH]).count()
