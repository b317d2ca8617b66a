"""« relance audit »: read an organisation's event log and list every broken escalation rule.

What each invoice received comes from the log itself: the ``reminder.sent`` events (a message
of a scenario step, or a formal notice asked for again) and the ``litigation.opened`` /
``litigation.invoices_added`` events (a hand-over). Events written since issue #10 carry the
step's facts (``escalation``: rank, offset, spacing, the previous reminders the message claims);
for older ones the step is read from the reminder row, and what the shipped templates of that
time claimed is assumed (:data:`LEGACY_CLAIMS`). The rules are in ``core.escalation_audit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from relance.clock import today_for
from relance.core.escalation import Stage, rank, spacing, stage
from relance.core.escalation_audit import Delivery, Violation, audit, states_business_law
from relance.dunning.models import Reminder, Step
from relance.events import kinds
from relance.events.models import Event
from relance.ledger.models import Invoice, Organisation

#: how many previous reminders the templates shipped before issue #10 claimed, whatever the invoice
#: had received (« Malgré notre précédent rappel », « Nos précédentes relances »…)
LEGACY_CLAIMS: Mapping[str, int] = {"relance_2": 1, "relance_3": 2, "courrier": 2, "mise_en_demeure": 2}
SENT_KINDS = (kinds.REMINDER_SENT,)
CASE_KINDS = (kinds.LITIGATION_OPENED, kinds.LITIGATION_INVOICES_ADDED)
#: the rank of a hand-over (the firmest there is)
HANDOVER_RANK = int(Stage.LITIGATION) * 10 + 5


@dataclass
class AuditReport:
    organisation: str
    messages: int = 0
    invoices: int = 0
    violations: list[Violation] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"organisation": self.organisation, "messages": self.messages, "invoices": self.invoices,
                "violations": [v.as_dict() for v in self.violations], "count": len(self.violations)}


def _local(organisation: Organisation, event: Event) -> date:
    return today_for(organisation, event.occurred_at)


def audit_organisation(organisation: Organisation) -> AuditReport:
    """Every violation of the escalation rules in the organisation's history."""
    events = list(Event.objects.filter(organisation=organisation, kind__in=(*SENT_KINDS, *CASE_KINDS,
                                                                                 kinds.LITIGATION_HANDOVER))
                  .order_by("seq"))
    reminder_ids = {e.reminder_id_ref for e in events if e.reminder_id_ref}
    reminders = {r.pk: r for r in Reminder.objects.filter(pk__in=reminder_ids).select_related("step", "customer")}
    scenario_ids = {r.step.scenario_id for r in reminders.values() if r.step is not None}
    siblings: dict[int, list[Step]] = {}
    for st in Step.objects.filter(scenario_id__in=scenario_ids).order_by("position"):
        siblings.setdefault(st.scenario_id, []).append(st)
    due_dates = dict(Invoice.objects.filter(organisation=organisation).values_list("number", "due_date"))
    deliveries: list[Delivery] = []
    messages = 0
    for event in events:
        on = _local(organisation, event)
        if event.kind in SENT_KINDS:
            reminder = reminders.get(event.reminder_id_ref or 0)
            if reminder is None or reminder.kind not in (Reminder.Kind.REMINDER, Reminder.Kind.FORMAL_NOTICE_AGAIN):
                continue
            found = list(_sent(organisation, event, reminder, on, due_dates, siblings))
        elif event.kind in CASE_KINDS and "invoices" in event.data:
            found = list(_handover(event, on, due_dates))
        elif event.kind in (kinds.LITIGATION_OPENED, kinds.LITIGATION_HANDOVER):
            continue  # an earlier version's hand-over: one litigation.opened per invoice (below)
        else:
            continue
        messages += bool(found)
        deliveries += found
    deliveries += list(_legacy_handovers(organisation, events, due_dates))
    deliveries.sort(key=lambda d: d.on)  # stable: the log's order within a day
    return AuditReport(organisation.slug, messages, len({d.invoice for d in deliveries}), audit(deliveries))


def _sent(organisation: Organisation, event: Event, reminder: Reminder, on: date, due_dates: Mapping[str, date],
          siblings: Mapping[int, list[Step]]) -> Iterable[Delivery]:
    facts: dict[str, Any] = event.data.get("escalation") or {}
    step = reminder.step
    consumer = not reminder.customer.is_business
    business_law = states_business_law(f"{reminder.subject}\n{reminder.body_text}")
    reissue = reminder.kind == Reminder.Kind.FORMAL_NOTICE_AGAIN
    if facts:
        for line in facts["invoices"]:
            yield Delivery(
                invoice=line["number"], on=on, message=f"relance {reminder.pk}", stage=Stage(facts["stage"]),
                rank=facts["rank"], due_date=date.fromisoformat(str(line["due_date"])),
                offset_days=facts["offset_days"], spacing_days=facts["spacing_days"],
                claimed_prior=facts["claimed_prior"], consumer=bool(facts.get("consumer", consumer)),
                business_law=business_law, reissue=bool(facts.get("reissue", reissue)),
                step=f"étape {facts.get('step_id', reminder.step_id)}")
        return
    if step is None:
        return
    spec = step.spec()
    specs = [s.spec() for s in siblings.get(step.scenario_id, [])]
    for line in event.data.get("invoices", []):
        number = line["number"] if isinstance(line, dict) else str(line)
        if number not in due_dates:
            continue
        yield Delivery(
            invoice=number, on=on, message=f"relance {reminder.pk}", stage=stage(spec), rank=rank(spec),
            due_date=due_dates[number], offset_days=spec.offset_days,
            spacing_days=spacing(specs, spec, organisation.min_gap_days),
            claimed_prior=LEGACY_CLAIMS.get(step.template), consumer=consumer, business_law=business_law,
            reissue=reissue, step=f"étape {step.pk}")


def _handover(event: Event, on: date, due_dates: Mapping[str, date]) -> Iterable[Delivery]:
    for line in event.data["invoices"]:
        notice = line.get("formal_notice") or {}
        received = notice.get("received_on")
        due = line.get("due_date")
        yield Delivery(
            invoice=line["number"], on=on, message=f"dossier {event.data.get('case')}", stage=Stage.LITIGATION,
            rank=HANDOVER_RANK,
            due_date=date.fromisoformat(str(due)) if due else due_dates.get(line["number"], on),
            notice_received_on=date.fromisoformat(str(received)) if received else None)


def _legacy_handovers(organisation: Organisation, events: list[Event],
                      due_dates: Mapping[str, date]) -> Iterable[Delivery]:
    """Hand-overs of earlier versions: one ``litigation.opened`` per invoice, with its number."""
    for event in events:
        if event.kind != kinds.LITIGATION_OPENED or "invoices" in event.data or "number" not in event.data:
            continue
        number = event.data["number"]
        yield Delivery(invoice=number, on=_local(organisation, event), message=f"relance {event.reminder_id_ref}",
                       stage=Stage.LITIGATION, rank=HANDOVER_RANK, due_date=due_dates.get(number, date.min))
