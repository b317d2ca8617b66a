"""The facts of a litigation case's evidence file, read from the database in a fixed number of
queries whatever the number of invoices, reminders or events: the case's invoices with their
allocations (payments and credit notes), the reminders sent about them with the event that
recorded each send (its sequence number and hash), the formal notices and their proof of
delivery (tracking number, avis de réception and its scan), the customer's replies (from the
event log), promises, disputes and payment plans, the claim (``claim.claim_for``) and the
verification of the organisation's event log (``events.services.verify_chain``)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch, Q

from relance.dunning.models import Reminder, ReminderLine
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import Hold, PaymentPlan, Promise
from relance.ledger.models import Allocation, Invoice, Organisation
from relance.ledger.queries import organisation_zone

from ..claim import Claim, claim_for
from ..models import CaseInvoice, LitigationCase

#: the events that record a message leaving (``kinds.SENDS``), and a person's « parti » after an
#: uncertain send: the proof, in the log, that a reminder was sent
SEND_KINDS: tuple[str, ...] = (*(k.code for k in kinds.SENDS), kinds.REMINDER_CONFIRMED_SENT.code)
#: what the log records of a registered letter after it left
LETTER_KINDS: tuple[str, ...] = (kinds.LETTER_TRACKING_RECORDED.code, kinds.LETTER_RECEIVED.code,
                                 kinds.LETTER_RECEIPT_ATTACHED.code)
#: reminders that are not messages to the debtor: the file emailed to a lawyer or a commissaire de
#: justice (the hand-over step itself, channel « litigation », is no message either)
NOT_TO_DEBTOR: tuple[str, ...] = (Reminder.Kind.CASE_HANDOVER,)
#: the customer's answers and what was agreed or contested, as the log recorded them
EXCHANGE_PREFIXES: tuple[str, ...] = ("reply.", "promise.", "dispute.", "plan.")


@dataclass
class StatementRow:
    on: date | None
    label: str
    debit: Decimal | None = None
    credit: Decimal | None = None


@dataclass
class InvoiceFacts:
    invoice: Invoice
    amount_due_at_opening: Decimal
    allocations: list[Allocation]
    notice_id: int | None

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), Decimal("0.00"))

    @property
    def unexplained(self) -> Decimal:
        """What the ledger took off the invoice without an allocation recorded here (an amount
        due imported as such): shown as one line so that the balance is the amount due."""
        return self.invoice.amount_incl_tax - self.allocated - self.invoice.amount_due

    def statement(self) -> list[StatementRow]:
        i = self.invoice
        rows = [StatementRow(i.issue_date, f"Facture n° {i.number} (échéance {i.due_date:%d/%m/%Y})",
                             debit=i.amount_incl_tax)]
        for a in self.allocations:
            if a.payment is not None:
                method = f", {a.payment.method}" if a.payment.method else ""
                label = f"Règlement reçu, réf. {a.payment.reference}{method}"
            else:
                assert a.credit_note is not None
                label = f"Avoir n° {a.credit_note.number}"
            rows.append(StatementRow(a.date, label, credit=a.amount))
        if self.unexplained:
            rows.append(StatementRow(None, "Règlements ou ajustements enregistrés en comptabilité (non détaillés)",
                                     credit=self.unexplained))
        return rows


@dataclass
class SentReminder:
    """A reminder sent about the case's invoices, with the event that recorded its send."""

    reminder: Reminder
    sent_on: date
    numbers: list[str]
    send_event: Event | None
    letter_events: list[Event] = field(default_factory=list)
    formal_notice: bool = False

    @property
    def body_matches(self) -> bool | None:
        """Whether the text kept is the text the send event hashed (``None``: nothing recorded)."""
        recorded = (self.send_event.data or {}).get("body_sha256") if self.send_event else None
        if not recorded:
            return None
        return bool(hashlib.sha256(self.reminder.body_text.encode()).hexdigest() == recorded)


@dataclass
class Facts:
    organisation: Organisation
    case: LitigationCase
    as_of: date
    claim: Claim
    invoices: list[InvoiceFacts]
    reminders: list[SentReminder]
    promises: list[Promise]
    disputes: list[Hold]
    plans: list[PaymentPlan]
    exchanges: list[Event]
    chain_problems: list[str]
    head: Event | None
    zone_name: str = "Europe/Paris"
    #: the day each dispute (hold id) was opened
    dispute_opened: dict[int, date] = field(default_factory=dict)

    @property
    def business(self) -> bool:
        return self.case.customer.is_business

    @property
    def notices(self) -> list[SentReminder]:
        return [r for r in self.reminders if r.formal_notice]

    @property
    def others(self) -> list[SentReminder]:
        return [r for r in self.reminders if not r.formal_notice]

    @property
    def head_hash(self) -> str:
        return self.head.hash if self.head is not None else ""


def collect(organisation: Organisation, case: LitigationCase, as_of: date) -> Facts:
    """Everything the evidence file shows of ``case`` on ``as_of`` (read-only)."""
    zone = organisation_zone(organisation)
    case = LitigationCase.objects.select_related("customer").get(pk=case.pk, organisation=organisation)
    lines = list(CaseInvoice.objects.filter(case=case).select_related("invoice", "invoice__customer")
                 .order_by("invoice__due_date", "invoice__number", "pk"))
    invoice_ids = [line.invoice_id for line in lines]
    allocations: dict[int, list[Allocation]] = defaultdict(list)
    for a in (Allocation.objects.filter(invoice_id__in=invoice_ids)
              .select_related("payment", "credit_note").order_by("date", "pk")):
        allocations[a.invoice_id].append(a)
    invoices = [InvoiceFacts(line.invoice, line.amount_due_at_opening, allocations[line.invoice_id],
                             line.formal_notice_id) for line in lines]
    notice_ids = {line.formal_notice_id for line in lines if line.formal_notice_id}

    # the reminders sent about these invoices (and the formal notices named by the case), with
    # the numbers of the case's invoices each was about
    case_lines = Prefetch("lines", queryset=ReminderLine.objects.filter(invoice_id__in=invoice_ids)
                          .select_related("invoice").order_by("invoice__due_date", "invoice__number"))
    found = list(Reminder.objects.filter(organisation=organisation, customer_id=case.customer_id,
                                         status=Reminder.Status.SENT)
                 .filter(Q(lines__invoice_id__in=invoice_ids) | Q(pk__in=notice_ids))
                 .exclude(kind__in=NOT_TO_DEBTOR).exclude(channel="litigation")
                 .distinct().prefetch_related(case_lines).order_by("sent_at", "pk"))
    sent = [r for r in found if _day(r, zone) <= as_of]
    reminder_ids = {r.pk for r in sent}
    proof_kinds = SEND_KINDS + LETTER_KINDS
    by_reminder: dict[int, list[Event]] = defaultdict(list)
    exchanges: list[Event] = []
    exchange = Q()
    for prefix in EXCHANGE_PREFIXES:
        exchange |= Q(kind__startswith=prefix)
    for event in (Event.objects.filter(organisation=organisation, customer_id_ref=case.customer_id)
                  .filter(Q(reminder_id_ref__in=reminder_ids, kind__in=proof_kinds)
                          | exchange)
                  .order_by("seq")):
        if event.reminder_id_ref in reminder_ids and event.kind in proof_kinds:
            by_reminder[event.reminder_id_ref].append(event)
        elif event.kind not in SEND_KINDS and event.occurred_at.astimezone(zone).date() <= as_of:
            exchanges.append(event)
    reminders = []
    for r in sent:
        events = by_reminder.get(r.pk, [])
        send = next((e for e in events if e.kind in SEND_KINDS), None)
        reminders.append(SentReminder(
            r, _day(r, zone), [line.invoice.number for line in r.lines.all()], send,
            [e for e in events if e.kind in LETTER_KINDS],
            formal_notice=r.pk in notice_ids or r.channel == "registered_letter"))

    # promises, disputes and plans about these invoices (or the whole customer)
    about = Q(invoice_id__in=invoice_ids) | Q(invoice__isnull=True)
    holds = list(Hold.objects.filter(organisation=organisation, customer_id=case.customer_id)
                 .filter(about).select_related("invoice", "dispute_reason", "promise", "plan")
                 .order_by("created_at", "pk"))
    # the day a dispute was opened: its event's (the row keeps only its creation instant)
    opened = {e.data.get("hold"): e.occurred_at.astimezone(zone).date() for e in exchanges
              if e.kind == kinds.DISPUTE_OPENED.code and isinstance(e.data, dict)}
    dispute_opened = {h.pk: opened.get(h.pk) or h.created_at.astimezone(zone).date()
                      for h in holds if h.kind == Hold.Kind.DISPUTE}
    disputes = [h for h in holds if h.kind == Hold.Kind.DISPUTE and dispute_opened[h.pk] <= as_of]
    promises = list({h.promise.pk: h.promise for h in holds
                     if h.promise is not None and h.promise.obtained_on <= as_of}.values())
    plans = list({h.plan.pk: h.plan for h in holds if h.plan is not None and h.plan.proposed_on <= as_of}.values())

    claim = claim_for(organisation, case, as_of)
    problems = [f"événement n° {p.seq} : {p.message}" for p in verify_chain(organisation)]
    head = Event.objects.filter(organisation=organisation).order_by("-seq").first()
    return Facts(organisation, case, as_of, claim, invoices, reminders,
                 sorted(promises, key=lambda p: (p.obtained_on, p.pk)), disputes,
                 sorted(plans, key=lambda p: (p.proposed_on, p.pk)), exchanges, problems, head, str(zone),
                 dispute_opened)


def _day(reminder: Reminder, zone: object) -> date:
    sent_at: datetime | None = reminder.sent_at
    if sent_at is None:
        return reminder.planned_for
    return sent_at.astimezone(zone).date()  # type: ignore[arg-type]
