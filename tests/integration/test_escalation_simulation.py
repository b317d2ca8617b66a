"""Months of collection simulated on the real planner and dispatcher (Hypothesis stateful
testing), with the escalation invariants of issue #10 asserted after every simulated day.

The machine creates invoices (some imported long after their due date), pays them in part or in
full, credits them, opens and resolves disputes, pauses customers, records promises, moves
customers to another scenario (payer profiles), records the advice of delivery of formal
notices, receives the customers' replies (promises, paid claims, disputes, absences…, in the
thread of their last reminder) and bounces of their emails, lets a person confirm, dismiss or
undo what a reply did, and lets days pass — the planner sometimes not running for days. After
every day (a reply waiting for a person is a pause: nothing leaves for its customer):

1–5. ``relance audit`` on the event log finds nothing (forward only, each step once, on time,
     nothing skipped, every sentence true — ``core.escalation_audit``);
   — no message leaves about an invoice that was paid, credited, disputed or paused when it left;
 7. what the customer page announces for the day (``dunning.queries.next_plan``) is exactly what
    the planner plans that day: the same steps, the same invoices, one message per step.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from relance.dunning import queries as dunning
from relance.dunning.models import Reminder
from relance.dunning.services.audit import audit_organisation
from relance.dunning.services.bounces import record_bounce
from relance.dunning.services.registered_mail import record_delivery
from relance.errors import Conflict, InvalidInput
from relance.holds.models import Hold
from relance.holds.services import holds as hold_services
from relance.holds.services import plans
from relance.ledger.models import Contact, Customer, Invoice
from relance.ledger.services.payments import record_credit_note, record_payment
from relance.litigation.models import CaseInvoice
from relance.operations.daily import run_day
from relance.profiles.models import PayerProfile
from relance.profiles.services import assign_profiles, install_default_profiles, override_profile
from relance.replies.models import Reply
from relance.replies.services import review
from relance.replies.services.receive import receive
from tests.builders import make_org

pytestmark = pytest.mark.django_db

#: what customers answer ({date}: a day ahead, {number}: one of their invoices)
REPLIES = [
    "Bonjour, je vous règle le {date}.",
    "La facture a été réglée par virement, merci de vérifier.",
    "Le montant de la facture {number} ne correspond pas au devis.",
    "Je n’ai jamais reçu cette facture, pouvez-vous me la renvoyer ?",
    "Pouvons-nous payer en trois fois ?",
    "Je suis absente jusqu’au {date}, je traiterai votre message à mon retour.",
    "Je ne m’occupe plus de la comptabilité, écrivez à compta@example.test.",
    "Bien reçu, merci.",
]

#: what the examples went through, across the run (the test fails if the replies never played a part)
SEEN: Counter[str] = Counter()

START = date(2026, 3, 2)  # a Monday, far from today's date: the simulation never meets the real clock


class Collection(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.day = START
        self.serial = 0
        self.planned_checks = 0

    def teardown(self) -> None:
        if hasattr(self, "org"):
            sent = Reminder.objects.filter(organisation=self.org, status=Reminder.Status.SENT).count()
            event(f"messages sent: {'0' if not sent else '1-9' if sent < 10 else '10+'}")
            event(f"days simulated: {'<30' if (self.day - START).days < 30 else '30+'}")
            event(f"announcements checked: {'0' if not self.planned_checks else '1+'}")
            if CaseInvoice.objects.filter(case__organisation=self.org).exists():
                event("a litigation case opened")
            if Reminder.objects.filter(organisation=self.org, status="sent", channel="registered_letter").exists():
                event("a formal notice sent")
            if Reply.objects.filter(organisation=self.org, state="traitee").exists():
                event("a reply applied")
                SEEN["replies applied"] += 1
            if Reply.objects.filter(organisation=self.org, reviewed_by="test").exists():
                SEEN["replies handled by a person"] += 1
            if Reminder.objects.filter(organisation=self.org, status="undelivered").exists():
                event("a reminder bounced")
                SEEN["reminders bounced"] += 1
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @initialize()
    def setup(self) -> None:
        self.org = make_org(slug="simulation", min_gap_days=5)
        install_default_profiles(self.org)
        self.customers: list[Customer] = []
        for code, business, email in (("C1", True, True), ("C2", True, False), ("C3", False, True)):
            customer = Customer.objects.create(organisation=self.org, code=code, legal_name=f"Client {code}",
                                               is_business=business, postal_code="69001", city="Lyon")
            Contact.objects.create(organisation=self.org, customer=customer, first_name="Claire", last_name=code,
                                   is_billing=True, email=f"{code.lower()}@example.test" if email else "")
            self.customers.append(customer)

    # --- the world -------------------------------------------------------------------------

    def _open(self) -> list[Invoice]:
        return list(Invoice.objects.filter(organisation=self.org, status=Invoice.Status.OPEN).order_by("pk"))

    @rule(customer=st.integers(0, 2), due_in=st.integers(-75, 45), amount=st.integers(50, 5000))
    def new_invoice(self, customer: int, due_in: int, amount: int) -> None:
        """An invoice enters: due in the future, or already late (imported late)."""
        self.serial += 1
        due = self.day + timedelta(days=due_in)
        Invoice.objects.create(organisation=self.org, customer=self.customers[customer], number=f"F-{self.serial:04d}",
                               issue_date=due - timedelta(days=30), due_date=due,
                               amount_incl_tax=Decimal(amount), amount_due=Decimal(amount))

    @rule(batch=st.lists(st.tuples(st.integers(0, 2), st.integers(-75, 45), st.integers(50, 5000)), min_size=1,
                         max_size=5))
    def import_file(self, batch: list[tuple[int, int, int]]) -> None:
        """A weekly import: several invoices at once."""
        for customer, due_in, amount in batch:
            self.new_invoice(customer, due_in, amount)

    @precondition(lambda self: Invoice.objects.filter(status=Invoice.Status.OPEN).exists())
    @rule(pick=st.integers(0, 50), share=st.sampled_from(["all", "half"]))
    def pay(self, pick: int, share: str) -> None:
        invoice = self._open()[pick % len(self._open())]
        amount = invoice.amount_due if share == "all" else (invoice.amount_due / 2).quantize(Decimal("0.01"))
        self.serial += 1
        record_payment(self.org, invoice.customer, f"VIR-{self.serial}", self.day, amount, designated=[invoice.number])

    @precondition(lambda self: Invoice.objects.filter(status=Invoice.Status.OPEN).exists())
    @rule(pick=st.integers(0, 50))
    def credit(self, pick: int) -> None:
        invoice = self._open()[pick % len(self._open())]
        self.serial += 1
        record_credit_note(self.org, invoice.customer, f"AV-{self.serial}", self.day, invoice.amount_due,
                           invoice_number=invoice.number)

    @precondition(lambda self: Invoice.objects.filter(status=Invoice.Status.OPEN,
                                                      dunning_state=Invoice.Dunning.ACTIVE).exists())
    @rule(pick=st.integers(0, 50))
    def dispute(self, pick: int) -> None:
        candidates = [i for i in self._open() if i.dunning_state == Invoice.Dunning.ACTIVE
                      and not Hold.objects.filter(invoice=i, state=Hold.State.ACTIVE).exists()]
        if candidates:
            hold_services.open_dispute(self.org, candidates[pick % len(candidates)], "montant_conteste",
                                       today=self.day)

    @precondition(lambda self: Hold.objects.filter(kind=Hold.Kind.DISPUTE, state=Hold.State.ACTIVE).exists())
    @rule()
    def resolve(self) -> None:
        hold = Hold.objects.filter(kind=Hold.Kind.DISPUTE, state=Hold.State.ACTIVE).order_by("pk").first()
        assert hold is not None
        hold_services.resolve_dispute(self.org, hold, actor="test", today=self.day)

    @rule(customer=st.integers(0, 2), days=st.integers(1, 20))
    def pause(self, customer: int, days: int) -> None:
        if not Hold.objects.filter(customer=self.customers[customer], kind=Hold.Kind.PAUSE,
                                   state=Hold.State.ACTIVE).exists():
            hold_services.pause(self.org, self.customers[customer], self.day + timedelta(days=days), reason="congés",
                                today=self.day)

    @rule(customer=st.integers(0, 2), days=st.integers(1, 10), share=st.sampled_from(["1", "0.5"]))
    def promise(self, customer: int, days: int, share: str) -> None:
        chased = [i for i in self._open() if i.customer_id == self.customers[customer].pk and i.due_date < self.day]
        if chased and not Hold.objects.filter(customer=self.customers[customer], state=Hold.State.ACTIVE).exists():
            amount = (sum(i.amount_due for i in chased) * Decimal(share)).quantize(Decimal("0.01"))
            hold_services.record_promise(self.org, self.customers[customer], self.day + timedelta(days=days),
                                         amount, via="phone", obtained_by="test", today=self.day)

    @rule(customer=st.integers(0, 2), count=st.integers(2, 4), start_in=st.integers(1, 20),
          broken=st.booleans())
    def payment_plan(self, customer: int, count: int, start_in: int, broken: bool) -> None:
        """A payment plan over the customer's overdue invoices, accepted at once; the plan's own
        messages follow its instalments, and a broken plan gives the invoices back to the sequence."""
        chased = [i for i in self._open() if i.customer_id == self.customers[customer].pk and i.due_date < self.day
                  and i.dunning_state == Invoice.Dunning.ACTIVE]
        if not chased or Hold.objects.filter(customer=self.customers[customer], state=Hold.State.ACTIVE).exists():
            return
        plan = plans.propose_plan(self.org, self.customers[customer], [i.number for i in chased], count=count,
                                  first_due=self.day + timedelta(days=start_in), actor="test", today=self.day)
        plans.accept_plan(self.org, plan, actor="test", on=self.day)
        if not broken:  # the customer pays the first instalment on time
            first = plan.instalments.order_by("position").first()
            assert first is not None
            self.serial += 1
            record_payment(self.org, self.customers[customer], f"ECH-{self.serial}", self.day,
                           min(first.amount, chased[0].amount_due), designated=[chased[0].number])

    @rule(customer=st.integers(0, 2), profile=st.integers(0, 2))
    def switch_scenario(self, customer: int, profile: int) -> None:
        """A collector imposes another payer profile, so another scenario, mid-sequence."""
        chosen = PayerProfile.objects.filter(organisation=self.org).order_by("position")[profile]
        override_profile(self.org, self.customers[customer], chosen, reason="simulation", actor="test")

    @precondition(lambda self: Reminder.objects.filter(channel="registered_letter", status="sent",
                                                       received_on__isnull=True).exists())
    @rule(days=st.integers(1, 12))
    def advice_of_delivery(self, days: int) -> None:
        letter = Reminder.objects.filter(channel="registered_letter", status="sent", received_on__isnull=True).first()
        assert letter is not None and letter.sent_at is not None
        sent = letter.sent_at.date()
        if sent + timedelta(days=days) <= self.day:
            record_delivery(self.org, letter.pk, received_on=sent + timedelta(days=days), today=self.day)

    def _last_email(self, customer: Customer) -> Reminder | None:
        return (Reminder.objects.filter(customer=customer, channel="email", status=Reminder.Status.SENT)
                .order_by("-pk").first())

    @rule(customer=st.sampled_from([0, 2]), text=st.sampled_from(REPLIES), in_days=st.integers(1, 20),
          threaded=st.booleans())
    def reply(self, customer: int, text: str, in_days: int, threaded: bool) -> None:
        """A customer answers (the words of ``REPLIES``, dates ``in_days`` ahead), in the thread of
        their last reminder or from their address only."""
        who = self.customers[customer]
        last = self._last_email(who)
        when = noon(self.day) + timedelta(hours=3)
        ahead = self.day + timedelta(days=in_days)
        body = text.format(date=f"{ahead.day:02d}/{ahead.month:02d}", number=(
            Invoice.objects.filter(customer=who).order_by("-pk").values_list("number", flat=True).first() or "F-0"))
        self.serial += 1
        raw = (f"From: {who.code.lower()}@example.test\r\nTo: recouvrement@atelier-dubois.test\r\n"
               f"Subject: RE: relance\r\nDate: {format_datetime(when)}\r\nMessage-ID: <r{self.serial}@example.test>\r\n"
               + (f"In-Reply-To: {last.message_id}\r\n" if threaded and last is not None else "")
               + ("Auto-Submitted: auto-replied\r\n" if "absente" in body else "")
               + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()
        with time_machine.travel(when, tick=False):
            receive(self.org, raw)

    @precondition(lambda self: Reply.objects.filter(state__in=["a_traiter", "traitee"]).exists())
    @rule(pick=st.integers(0, 20), what=st.sampled_from(["confirm", "dismiss", "undo", "other"]))
    def handle_reply(self, pick: int, what: str) -> None:
        """A person confirms, sets aside, undoes, or corrects the category of a reply."""
        replies = list(Reply.objects.filter(state__in=["a_traiter", "traitee"]).order_by("pk"))
        reply = replies[pick % len(replies)]
        try:
            if what == "undo" and reply.state == "traitee" and reply.kind == "reply":
                review.undo(self.org, reply, actor="test", today=self.day)
            elif what == "dismiss" and reply.state == "a_traiter":
                review.dismiss(self.org, reply, actor="test", today=self.day)
            elif what in ("confirm", "other") and reply.state == "a_traiter":
                review.confirm(self.org, reply, actor="test", today=self.day,
                               category="mauvais_contact" if what == "other" else None, all_invoices=True)
        except (InvalidInput, Conflict):
            pass  # what a person would be told on the page (a promise with a date already passed…)

    @precondition(lambda self: Reminder.objects.filter(channel="email", status="sent").exists())
    @rule()
    def bounce(self) -> None:
        """The last email sent comes back: the address is unknown."""
        last = Reminder.objects.filter(channel="email", status="sent").order_by("-pk").first()
        assert last is not None
        record_bounce(self.org, our_message_ids=[last.message_id], recipients=[last.recipient], permanent=True,
                      final=True, reason="adresse inconnue", status="5.1.1", diagnostic="550 5.1.1 unknown",
                      received_at=noon(self.day))

    @rule(days=st.integers(1, 30), idle=st.sets(st.integers(0, 29), max_size=6))
    def days_pass(self, days: int, idle: set[int]) -> None:
        """Days pass; the daily job runs on each, but on the ``idle`` ones (missed days)."""
        for n in range(days):
            self.day += timedelta(days=1)
            if n not in idle:
                self._run_today()

    # --- one day, and what must hold ------------------------------------------------------

    def _blocked(self) -> set[int]:
        """Invoices no message may speak of today: not open, disputed, or paused / stopped."""
        ids = set(Invoice.objects.filter(organisation=self.org).exclude(status=Invoice.Status.OPEN)
                  .values_list("pk", flat=True))
        for hold in Hold.objects.filter(organisation=self.org, state=Hold.State.ACTIVE,
                                        kind__in=[Hold.Kind.DISPUTE, Hold.Kind.PAUSE, Hold.Kind.STOP]):
            if hold.until is not None and hold.until < self.day:
                continue
            if hold.invoice_id is not None:
                ids.add(hold.invoice_id)
            else:
                ids |= set(Invoice.objects.filter(customer_id=hold.customer_id).values_list("pk", flat=True))
        return ids

    def _announced(self) -> dict[int, set[tuple[int, frozenset[str]]]]:
        """What the customer page announces for today, for the customers nothing else governs
        (no message pending, no hold, no promise of any kind)."""
        assign_profiles(self.org, self.day)  # the daily job does it first: the page sees the day's scenario
        out: dict[int, set[tuple[int, frozenset[str]]]] = {}
        for customer in Customer.objects.filter(organisation=self.org):
            if Hold.objects.filter(customer=customer, state=Hold.State.ACTIVE).exists():
                continue
            if Reminder.objects.filter(customer=customer, status__in=["planned", "awaiting", "sending", "uncertain",
                                                                         "failed"]).exists():
                continue
            invoices = list(Invoice.objects.filter(customer=customer, status=Invoice.Status.OPEN))
            plan = dunning.next_plan(self.org, customer, invoices, self.day)
            out[customer.pk] = set() if plan is None or plan[0] != self.day else {
                (g.step.position, frozenset(i.number for i in g.invoices)) for g in plan[1]}
        return out

    def _run_today(self) -> None:
        blocked = self._blocked()
        announced = self._announced()
        before = set(Reminder.objects.values_list("pk", flat=True))
        cases_before = set(CaseInvoice.objects.values_list("pk", flat=True))
        run_day(self.org, self.day, queue=False)
        new = Reminder.objects.exclude(pk__in=before).filter(kind=Reminder.Kind.REMINDER)
        planned: dict[int, set[tuple[int, frozenset[str]]]] = {}
        for reminder in new.select_related("step"):
            assert reminder.step is not None
            numbers = frozenset(reminder.lines.values_list("invoice__number", flat=True))
            planned.setdefault(reminder.customer_id, set()).add((reminder.step.position, numbers))
        for line in CaseInvoice.objects.exclude(pk__in=cases_before).select_related("case", "invoice"):
            step = next(s for s in dunning.scenario_for(self.org, line.case.customer).steps.all()
                        if s.channel == "litigation")
            planned.setdefault(line.case.customer_id, set())
            group = next((g for g in planned[line.case.customer_id] if g[0] == step.position), None)
            if group is not None:
                planned[line.case.customer_id].discard(group)
            numbers = (group[1] if group else frozenset()) | {line.invoice.number}
            planned[line.case.customer_id].add((step.position, frozenset(numbers)))
        for customer_id, expected in announced.items():
            assert planned.get(customer_id, set()) == expected, (self.day, customer_id)
            self.planned_checks += bool(expected)
        # nothing left about an invoice paid, credited, disputed or paused at the time
        sent_today = Reminder.objects.filter(organisation=self.org, status=Reminder.Status.SENT,
                                             kind=Reminder.Kind.REMINDER, pk__in=new.values("pk"))
        for reminder in sent_today:
            assert not set(reminder.lines.values_list("invoice_id", flat=True)) & blocked, reminder.pk

    @invariant()
    def the_history_obeys_the_rules(self) -> None:
        if not hasattr(self, "org"):
            return
        violations = audit_organisation(self.org).violations
        assert violations == [], [v.as_dict() for v in violations]


def test_months_of_collection_keep_every_escalation_rule(settings_email: Any) -> None:
    # derandomized: the same examples on every run and every database, so that the check below (the replies,
    # a person's decisions and a bounce did take part) never depends on luck, and a failure always shows again
    run_state_machine_as_test(Collection, settings=settings(
        max_examples=15, stateful_step_count=40, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
    assert SEEN["replies applied"] and SEEN["replies handled by a person"] and SEEN["reminders bounced"], SEEN


@pytest.fixture
def settings_email(settings: Any, tmp_path: Any) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)
