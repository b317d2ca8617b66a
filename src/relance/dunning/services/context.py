"""What the planner and the dispatcher need to know about an organisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from relance import clock
from relance.core.calendar import BusinessCalendar
from relance.core.policy import StepSpec
from relance.dunning.models import Hold, Scenario, Step
from relance.ledger.models import Invoice, Organisation


def local_today(organisation: Organisation, now: datetime | None = None) -> date:
    """Today's date in the organisation's time zone (business dates are local)."""
    now = now or clock.now()
    return now.astimezone(ZoneInfo(organisation.timezone)).date()


def calendar_for(organisation: Organisation) -> BusinessCalendar:
    return BusinessCalendar("FR", organisation.holiday_subdivision or None)


def active_holds(organisation: Organisation, today: date) -> QuerySet[Hold]:
    return Hold.objects.filter(organisation=organisation, state=Hold.State.ACTIVE).filter(
        Q(until__isnull=True) | Q(until__gte=today)
    )


def held_condition(organisation: Organisation, today: date, invoice_ref: str = "pk",
                   customer_ref: str = "customer_id") -> Exists:
    """``Exists`` of an active hold on the invoice itself or on its whole customer."""
    return Exists(active_holds(organisation, today).filter(
        Q(invoice_id=OuterRef(invoice_ref)) | Q(invoice__isnull=True, customer_id=OuterRef(customer_ref))
    ))


def chaseable(organisation: Organisation, today: date) -> QuerySet[Invoice]:
    """Open invoices under active dunning and not on hold."""
    return Invoice.objects.filter(
        organisation=organisation, status=Invoice.Status.OPEN, dunning_state=Invoice.Dunning.ACTIVE
    ).exclude(held_condition(organisation, today))


@dataclass
class ScenarioBook:
    default_id: int | None
    specs: dict[int, list[StepSpec]] = field(default_factory=dict)
    steps: dict[tuple[int, int], Step] = field(default_factory=dict)

    @classmethod
    def load(cls, organisation: Organisation) -> ScenarioBook:
        scenarios = list(Scenario.objects.filter(organisation=organisation).prefetch_related("steps"))
        default = next((s for s in scenarios if s.is_default), scenarios[0] if scenarios else None)
        book = cls(default.id if default else None)
        for s in scenarios:
            steps = list(s.steps.all())
            book.specs[s.id] = [st.spec() for st in steps]
            for st in steps:
                book.steps[(s.id, st.position)] = st
        return book

    def scenario_of(self, scenario_id: int | None) -> int | None:
        return scenario_id if scenario_id in self.specs else self.default_id
