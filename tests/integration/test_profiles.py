"""Payer profiles on the database: installation, bulk assignment from the payment history,
override, events, the daily run, the customer page's query and the number of queries."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relance import clock
from relance.core.profiles import FIRM_SCENARIO_NAME, GENTLE_SCENARIO_NAME, InvoiceRecord, tally
from relance.dunning.models import Reminder, ReminderLine, Scenario
from relance.dunning.services.planner import plan_day
from relance.errors import InvalidInput, NotFound
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Customer, Invoice, Organisation
from relance.operations.daily import run_day
from relance.profiles.models import CustomerProfile, PayerProfile, ProfileOverride
from relance.profiles.queries import customer_profile
from relance.profiles.services import (
    assign_profiles,
    clear_override,
    install_default_profiles,
    override_profile,
    tallies,
)
from tests.builders import make_org

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 23)  # a Monday


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(datetime(2026, 11, 23, 11, 0, tzinfo=UTC)):
        yield


@pytest.fixture
def org() -> Organisation:
    org = make_org()
    install_default_profiles(org)
    return org


class History:
    """Builds customers and their invoices, settled or not, with the reminders they needed."""

    def __init__(self, org: Organisation):
        self.org = org
        self.n = 0
        self.standard = Scenario.objects.get(organisation=org, name="Standard")
        self.step_of = {s.position: s for s in self.standard.steps.all()}

    def customer(self, code: str, *, business: bool = True) -> Customer:
        return Customer.objects.create(organisation=self.org, code=code, legal_name=f"Client {code}",
                                       is_business=business)

    def invoice(self, customer: Customer, due: date, settled: date | None = None, amount: str = "1000.00",
                reminders: int = 0, credited: bool = False, planned: list[date] | None = None) -> Invoice:
        self.n += 1
        total = Decimal(amount)
        status = (Invoice.Status.CREDITED if credited else Invoice.Status.PAID) if settled else Invoice.Status.OPEN
        invoice = Invoice.objects.create(
            organisation=self.org, customer=customer, number=f"F-{self.n:05d}", issue_date=due - timedelta(days=30),
            due_date=due, amount_incl_tax=total, amount_due=Decimal(0) if settled else total, status=status,
            settled_on=settled,
        )
        for i in range(reminders):
            step = self.step_of[1 + min(i, 4)]
            reminder = Reminder.objects.create(
                organisation=self.org, customer=customer, step=step, channel=step.channel,
                planned_for=due + timedelta(days=step.offset_days), idempotency_key=f"{self.org.slug}-{self.n}-{i}",
                status=Reminder.Status.SENT,
            )
            ReminderLine.objects.create(reminder=reminder, invoice=invoice, step_position=step.position)
            if planned is not None:
                planned.append(reminder.planned_for)
        return invoice

    def good(self, code: str) -> Customer:
        c = self.customer(code)
        for month, late in ((2, -3), (4, 0), (6, -1), (8, 2), (10, 0)):  # one in five two days late
            self.invoice(c, date(2026, month, 10), date(2026, month, 10) + timedelta(days=late))
        return c

    def slow(self, code: str) -> Customer:
        c = self.customer(code)
        for month, late, reminders in ((3, 12, 1), (5, 20, 2), (7, 18, 2), (9, 9, 1)):
            self.invoice(c, date(2026, month, 1), date(2026, month, 1) + timedelta(days=late), reminders=reminders)
        return c

    def risky(self, code: str) -> Customer:
        c = self.customer(code)
        for month in (2, 4, 6):
            self.invoice(c, date(2026, month, 1), date(2026, month, 1) + timedelta(days=62), reminders=4)
        self.invoice(c, date(2026, 10, 9))  # unpaid, 45 days late
        return c


def scenario_of(customer: Customer) -> str | None:
    customer.refresh_from_db()
    return customer.scenario.name if customer.scenario else None


def kinds(org: Organisation) -> list[str]:
    return list(Event.objects.filter(organisation=org).order_by("seq").values_list("kind", flat=True))


# --- Installation -----------------------------------------------------------------------------

def test_install_is_idempotent_and_creates_the_scenarios(org: Organisation) -> None:
    again = install_default_profiles(org)
    assert [(p.position, p.name, p.scenario.name) for p in again] == [
        (10, "Bon payeur", GENTLE_SCENARIO_NAME), (20, "Payeur lent", "Standard"),
        (30, "Payeur à risque", FIRM_SCENARIO_NAME)]
    assert Scenario.objects.filter(organisation=org).count() == 3
    assert Scenario.objects.get(organisation=org, is_default=True).name == "Standard"
    gentle = Scenario.objects.get(organisation=org, name=GENTLE_SCENARIO_NAME)
    firm = Scenario.objects.get(organisation=org, name=FIRM_SCENARIO_NAME)
    assert [(s.offset_days, s.template) for s in gentle.steps.all()] == [
        (10, "relance_1"), (25, "relance_2"), (40, "relance_3"), (55, "mise_en_demeure"), (90, "contentieux")]
    assert [(s.offset_days, s.channel) for s in firm.steps.all()][:5] == [
        (-3, "email"), (1, "email"), (8, "email"), (12, "email"), (20, "registered_letter")]
    assert kinds(org) == ["profiles.installed"]


def test_install_on_an_organisation_without_scenario() -> None:
    org = Organisation.objects.create(slug="nue", legal_name="Nue SARL")
    profiles = install_default_profiles(org)
    assert [p.scenario.name for p in profiles] == [GENTLE_SCENARIO_NAME, "Standard", FIRM_SCENARIO_NAME]
    assert Scenario.objects.get(organisation=org, is_default=True).name == "Standard"


# --- Assignment -------------------------------------------------------------------------------

def test_assign_picks_the_scenario_from_the_payment_history(org: Organisation) -> None:
    h = History(org)
    good, slow, risky = h.good("BON"), h.slow("LENT"), h.risky("RISQUE")
    newcomer = h.customer("NOUVEAU")
    report = assign_profiles(org, DAY)
    assert report.customers == 4 and report.changed == 4
    assert [scenario_of(c) for c in (good, slow, risky, newcomer)] == [
        GENTLE_SCENARIO_NAME, "Standard", FIRM_SCENARIO_NAME, "Standard"]
    assigned = {a.customer.code: a for a in CustomerProfile.objects.select_related("customer", "profile")}
    assert {code: a.profile.name for code, a in assigned.items()} == {  # type: ignore[union-attr]
        "BON": "Bon payeur", "LENT": "Payeur lent", "RISQUE": "Payeur à risque", "NOUVEAU": "Payeur lent"}
    assert assigned["RISQUE"].figures["late_invoices"] == 4
    assert assigned["RISQUE"].figures["average_days_late"] == "57.8"  # (62 × 3 + 45) / 4
    assert assigned["LENT"].figures["reminders_per_invoice"] == "1.50"

    events = list(Event.objects.filter(organisation=org, kind="profile.changed").order_by("seq"))
    assert len(events) == 4
    risky_event = next(e for e in events if e.customer_id_ref == risky.pk)
    assert risky_event.data["from"] is None and risky_event.data["to"] == "Payeur à risque"
    assert risky_event.data["figures"]["share_late"] == "1.00"
    assert risky_event.data["scenario"] == {"from": None, "to": FIRM_SCENARIO_NAME}
    assert not verify_chain(org)


def test_events_only_when_the_profile_changes(org: Organisation) -> None:
    h = History(org)
    good = h.good("BON")
    h.risky("RISQUE")
    assign_profiles(org, DAY)
    count = Event.objects.count()
    assign_profiles(org, DAY)
    assign_profiles(org, DAY + timedelta(days=1))  # the unpaid invoice is a day later: same profile
    assert Event.objects.count() == count

    for i in range(3):  # the good payer now pays late, with reminders
        h.invoice(good, date(2026, 10, 1 + i), date(2026, 11, 10 + i), reminders=3)
    report = assign_profiles(org, DAY)
    assert report.changed == 1
    event = Event.objects.filter(kind="profile.changed").latest("seq")
    assert event.customer_id_ref == good.pk
    assert (event.data["from"], event.data["to"]) == ("Bon payeur", "Payeur lent")
    assert event.data["scenario"] == {"from": GENTLE_SCENARIO_NAME, "to": "Standard"}
    assert scenario_of(good) == "Standard"
    assert CustomerProfile.objects.get(customer=good).assigned_on == DAY


def test_consumer_and_business_rules(org: Organisation) -> None:
    PayerProfile.objects.create(organisation=org, name="Particuliers", position=5, audience="consumer",
                                scenario=Scenario.objects.get(organisation=org, name="Standard"))
    h = History(org)
    pro = h.good("PRO")
    private = h.customer("PART", business=False)
    for month in (2, 4, 6, 8):
        h.invoice(private, date(2026, month, 10), date(2026, month, 10))
    assign_profiles(org, DAY)
    assert scenario_of(pro) == GENTLE_SCENARIO_NAME
    assert scenario_of(private) == "Standard"
    assert CustomerProfile.objects.get(customer=private).profile.name == "Particuliers"  # type: ignore[union-attr]


def test_no_profiles_no_change() -> None:
    org = make_org("sans-profils")
    customer = History(org).good("BON")
    report = assign_profiles(org, DAY)
    assert report.customers == 0
    assert scenario_of(customer) is None
    assert not Event.objects.filter(organisation=org).exists()


def test_sql_figures_equal_the_pure_figures(org: Organisation) -> None:
    rng = random.Random(20261123)
    h = History(org)
    invoices: dict[int, list[tuple[Invoice, list[date]]]] = {}
    for c in range(12):
        customer = h.customer(f"R{c:02d}", business=c % 3 != 0)
        invoices[customer.pk] = []
        for _ in range(rng.randint(0, 8)):
            due = DAY + timedelta(days=rng.randint(-500, 40))
            settled = due + timedelta(days=rng.randint(-20, 90)) if rng.random() < 0.7 else None
            credited = settled is not None and rng.random() < 0.1
            reminders = rng.randint(0, 3) if settled is None or settled > due else 0
            planned: list[date] = []
            invoice = h.invoice(customer, due, settled, f"{rng.randint(10, 90000)}.{rng.randint(0, 99):02d}",
                                reminders, credited, planned)
            invoices[customer.pk].append((invoice, planned))
    for day in (DAY, DAY - timedelta(days=100), DAY - timedelta(days=300)):
        sums = tallies(org, day)
        for customer_id, items in invoices.items():
            expected = tally([InvoiceRecord(i.due_date, i.settled_on, i.amount_due, sum(p <= day for p in planned),
                                            i.status == Invoice.Status.CREDITED) for i, planned in items], day)
            if expected.invoices or expected.outstanding:
                assert sums[customer_id] == expected, (customer_id, day)
            else:
                assert customer_id not in sums or sums[customer_id] == expected


def test_a_notice_before_the_due_date_is_not_a_reminder_needed(org: Organisation) -> None:
    h = History(org)
    customer = h.customer("C1")
    invoice = h.invoice(customer, date(2026, 10, 1), date(2026, 10, 1))
    notice = Reminder.objects.create(organisation=org, customer=customer, step=h.step_of[0], channel="email",
                                     planned_for=date(2026, 9, 24), idempotency_key="notice",
                                     status=Reminder.Status.SENT)
    ReminderLine.objects.create(reminder=notice, invoice=invoice, step_position=0)
    assert tallies(org, DAY)[customer.pk].reminders == 0


# --- A change of scenario carries the invoices' progress over --------------------------------

def test_a_new_scenario_takes_over_where_the_old_one_stood(org: Organisation) -> None:
    h = History(org)
    customer = h.slow("C1")
    assign_profiles(org, DAY)
    assert scenario_of(customer) == "Standard"
    # an open invoice already reminded once in the standard scenario (relance_1, J+7)
    open_invoice = h.invoice(customer, date(2026, 11, 13), reminders=1)
    Invoice.objects.filter(pk=open_invoice.pk).update(last_step_position=1, next_action_date=date(2026, 11, 30))
    for month in (1, 2, 4):  # the history turns bad: three invoices paid two months late
        h.invoice(customer, date(2026, month, 5), date(2026, month + 2, 8), reminders=4)
    report = assign_profiles(org, DAY)
    assert scenario_of(customer) == FIRM_SCENARIO_NAME and report.invoices_rescheduled == 1
    open_invoice.refresh_from_db()
    assert (open_invoice.last_step_position, open_invoice.next_action_date) == (1, None)  # relance_1 done in firm too
    plan = plan_day(org, DAY)
    assert [(r.customer, r.step) for r in plan.reminders] == [("C1", "Deuxième relance")]  # firm J+8, due now
    open_invoice.refresh_from_db()
    assert open_invoice.last_step_position == 1  # the invoice moves on when the message is sent


def test_a_scenario_move_locks_the_customer_invoices_before_the_organisation(org: Organisation, monkeypatch) -> None:
    """The lock order (relance/locks.py): a new scenario reschedules the customer's open invoices,
    so they are locked before the organisation row, not written after it."""
    import relance.profiles.services as services

    h = History(org)
    customer = h.risky("C1")
    h.invoice(customer, date(2026, 11, 13), reminders=1)
    taken: list[str] = []
    lock_invoices, lock_org = services.lock_customer_invoices, services._lock
    monkeypatch.setattr(services, "lock_customer_invoices",
                        lambda o, ids: (taken.append(f"factures de {sorted(ids)}"), lock_invoices(o, ids))[1])
    monkeypatch.setattr(services, "_lock", lambda o: (taken.append("organisation"), lock_org(o))[1])
    report = assign_profiles(org, DAY)
    open_invoices = Invoice.objects.filter(customer=customer, status=Invoice.Status.OPEN).count()
    assert scenario_of(customer) == FIRM_SCENARIO_NAME and report.invoices_rescheduled == open_invoices >= 1
    assert taken == [f"factures de {[customer.pk]}", "organisation"]


def test_a_move_seen_only_under_the_lock_waits_for_the_next_assignment(org: Organisation, monkeypatch) -> None:
    """The figures changed between the read and the lock (a payment, an override): the customer
    whose move was not foreseen keeps its scenario, profile and events for the next assignment."""
    import relance.profiles.services as services

    h = History(org)
    customer = h.risky("C1")
    decide, calls = services._decide, []

    def first_read_sees_no_move(*args: Any) -> Any:
        decision = decide(*args)
        calls.append(1)
        if len(calls) == 1:
            decision.moves = {}
        return decision

    monkeypatch.setattr(services, "_decide", first_read_sees_no_move)
    report = assign_profiles(org, DAY)
    assert report.deferred == 1 and report.scenarios_changed == 0 and report.changed == 0
    assert scenario_of(customer) is None or scenario_of(customer) == "Standard"
    assert not CustomerProfile.objects.filter(customer=customer).exists()
    assert not Event.objects.filter(organisation=org, kind="profile.changed").exists()
    monkeypatch.setattr(services, "_decide", decide)
    report = assign_profiles(org, DAY)
    assert report.deferred == 0 and scenario_of(customer) == FIRM_SCENARIO_NAME
    assert Event.objects.filter(organisation=org, kind="profile.changed").count() == 1
    assert not verify_chain(org)


# --- Override ---------------------------------------------------------------------------------

def test_override_wins_and_is_evented(org: Organisation) -> None:
    h = History(org)
    good = h.good("BON")
    assign_profiles(org, DAY)
    risky_profile = PayerProfile.objects.get(organisation=org, name="Payeur à risque")
    override_profile(org, good, risky_profile, "  Redressement judiciaire\nannoncé ", actor="user:claire")
    assert scenario_of(good) == FIRM_SCENARIO_NAME
    event = Event.objects.filter(organisation=org).latest("seq")
    assert event.kind == "profile.overridden" and event.actor == "user:claire"
    assert event.data["reason"] == "Redressement judiciaire annoncé"
    assert event.data["scenario"] == {"from": GENTLE_SCENARIO_NAME, "to": FIRM_SCENARIO_NAME}

    count = Event.objects.count()
    assign_profiles(org, DAY)  # the rules still say « Bon payeur »: the override wins, nothing changes
    assert scenario_of(good) == FIRM_SCENARIO_NAME and Event.objects.count() == count
    assert CustomerProfile.objects.get(customer=good).profile.name == "Bon payeur"  # type: ignore[union-attr]

    card = customer_profile(org, good, DAY)
    assert card.profile == risky_profile and card.computed is not None and card.computed.name == "Bon payeur"
    assert card.scenario is not None and card.scenario.name == FIRM_SCENARIO_NAME and not card.pending

    clear_override(org, good, actor="user:claire", reason="plan de continuation")
    assert scenario_of(good) == GENTLE_SCENARIO_NAME
    assert not ProfileOverride.objects.filter(customer=good).exists()
    assert kinds(org)[-2:] == ["profile.override_cleared", "profile.scenario_changed"]
    assert not verify_chain(org)


def test_override_is_refused_without_reason_or_across_organisations(org: Organisation) -> None:
    customer = History(org).good("BON")
    profile = PayerProfile.objects.get(organisation=org, name="Payeur à risque")
    with pytest.raises(InvalidInput):
        override_profile(org, customer, profile, "   ", actor="user:claire")
    other = make_org("autre")
    install_default_profiles(other)
    with pytest.raises(NotFound):
        override_profile(other, customer, PayerProfile.objects.get(organisation=other, name="Bon payeur"),
                         "motif", actor="user:x")
    with pytest.raises(NotFound):
        override_profile(org, customer, PayerProfile.objects.get(organisation=other, name="Bon payeur"),
                         "motif", actor="user:x")
    with pytest.raises(NotFound):
        clear_override(org, customer, actor="user:claire")
    with pytest.raises(NotFound):
        customer_profile(other, customer)


# --- The daily run ----------------------------------------------------------------------------

@pytest.fixture
def _mail(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_mail")
def test_daily_run_assigns_profiles_and_a_dry_run_records_nothing() -> None:
    org = make_org()
    install_default_profiles(org)
    h = History(org)
    risky = h.risky("RISQUE")
    events = Event.objects.count()
    report = run_day(org, DAY, dry_run=True)
    assert report.profiles is not None and report.profiles.changed == 1
    assert Event.objects.count() == events
    assert scenario_of(risky) is None and not CustomerProfile.objects.exists()

    report = run_day(org, DAY, queue=False)
    assert report.as_dict()["profiles"]["by_profile"] == {"Payeur à risque": 1}
    assert scenario_of(risky) == FIRM_SCENARIO_NAME
    assert "profile.changed" in kinds(org)


# --- The customer page ------------------------------------------------------------------------

def test_customer_card(org: Organisation) -> None:
    h = History(org)
    slow, risky = h.slow("LENT"), h.risky("RISQUE")
    card = customer_profile(org, risky, DAY)
    assert card.computed is not None and card.computed.name == "Payeur à risque"
    assert card.scenario is not None and card.scenario.name == "Standard"  # the default, until the daily run
    assert card.pending
    card = customer_profile(org, slow, DAY)
    assert card.configured and card.computed is not None and card.computed.name == "Payeur lent"
    assert not card.pending  # the default scenario is already the standard one
    assert (card.history.invoices, card.history.average_days_late, card.share_late_percent) == (
        4, Decimal("14.8"), Decimal(100))
    assign_profiles(org, DAY)
    card = customer_profile(org, slow, DAY)
    assert not card.pending and card.assignment is not None and card.assignment.assigned_on == DAY
    html = render_to_string("relance/profiles_card.html", {"card": card})
    assert "Payeur lent" in html and "Standard" in html
    assert "14,8 jours" in html and "4 sur 4 (100 %)" in html
    assert "du 23 novembre 2025 au 23 novembre 2026" in html

    bare = make_org("nue")
    customer = Customer.objects.create(organisation=bare, code="X", legal_name="X")
    html = render_to_string("relance/profiles_card.html", {"card": customer_profile(bare, customer, DAY)})
    assert "Aucun profil de payeur n’est défini" in html


# --- Scale: the number of queries does not grow with the customers ---------------------------

def _populate(org: Organisation, customers: int) -> None:
    h = History(org)
    for i in range(customers):
        [h.good, h.slow, h.risky][i % 3](f"Q{i:04d}")


def _queries(org: Organisation, day: date) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assign_profiles(org, day)
    return len(ctx.captured_queries)


def test_query_count_is_constant_with_the_number_of_customers(django_assert_max_num_queries: Any) -> None:
    small, large = make_org("petite"), make_org("grande")
    for o in (small, large):
        install_default_profiles(o)
    _populate(small, 3)
    _populate(large, 45)
    first_small, first_large = _queries(small, DAY), _queries(large, DAY)
    assert first_small == first_large
    with django_assert_max_num_queries(first_large):
        assign_profiles(large, DAY + timedelta(days=1))  # steady state: nothing changes, fewer writes
    assert _queries(small, DAY) == _queries(large, DAY)
    assert CustomerProfile.objects.filter(organisation=large).count() == 45


# --- Back-office ------------------------------------------------------------------------------

def test_admin_pages_and_scoping(admin_client: Any, org: Organisation) -> None:
    h = History(org)
    customer = h.good("BON")
    assign_profiles(org, DAY)
    override_profile(org, customer, PayerProfile.objects.get(organisation=org, name="Payeur lent"), "essai",
                     actor="user:claire")
    for model in (PayerProfile, CustomerProfile, ProfileOverride):
        response = admin_client.get(reverse(f"admin:profiles_{model._meta.model_name}_changelist"))
        assert response.status_code == 200, model
    profile = PayerProfile.objects.get(organisation=org, name="Bon payeur")
    assert admin_client.get(reverse("admin:profiles_payerprofile_change", args=[profile.pk])).status_code == 200
    other = make_org("autre")
    response = admin_client.post(reverse("admin:profiles_payerprofile_add"), {
        "organisation": org.pk, "position": 40, "name": "Grands comptes", "audience": "business",
        "scenario": Scenario.objects.get(organisation=other).pk, "min_outstanding": "50000",
    })
    assert response.status_code == 200 and not PayerProfile.objects.filter(name="Grands comptes").exists()
    assert admin_client.get(reverse("admin:profiles_customerprofile_add")).status_code == 403
