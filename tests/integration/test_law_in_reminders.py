"""Penalties in reminders and in the formal notice, and what happens when a rate is missing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.core import mail

from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.events.models import Event
from relance.ledger.models import Invoice
from relance.ledger.services.imports import import_file
from relance.rates.services import add_rate
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def org(tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "f.csv", invoices_csv([("F-1", "C001", "2026-06-01", "2026-07-01", "1000,00")])))
    return org


def plan_step(org, template: str, day: date) -> Reminder:
    from relance.dunning.models import Step

    step = Step.objects.get(scenario__organisation=org, template=template)
    invoice = Invoice.objects.get(number="F-1")
    reminder = Reminder.objects.create(organisation=org, customer=invoice.customer, step=step, channel=step.channel,
                                       planned_for=day, idempotency_key=f"k-{template}")
    reminder.lines.create(invoice=invoice, step_position=step.position, amount_due=invoice.amount_due)
    return reminder


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, tzinfo=UTC)


def test_formal_notice_waits_for_a_missing_rate_then_goes(org):
    day = date(2026, 9, 1)  # 2026-S2: neither the legal rate nor the ECB fixing of 1 July 2026 is known
    reminder = plan_step(org, "mise_en_demeure", day)
    dispatch_now(org, noon(day))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED
    assert reminder.last_error.startswith("taux manquant")
    assert "2026-S2" in reminder.last_error and "relance rates add" in reminder.last_error
    assert not reminder.document

    add_rate("2026-S2", ecb="2.15", source="décision BCE (test)")
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PLANNED  # requeued by adding the rate
    dispatch_now(org, noon(day))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.document
    # 62 days late in 2026-S2 at 2.15 + 10 = 12.15 % on 1 000 € = 1000 × 0.1215 × 62/365 = 20.6383… = 20.64 €
    assert "20,64\xa0€ de pénalités de retard" in reminder.body_text
    assert "taux annuel de 12,15\u00a0%" in reminder.body_text


def test_plain_reminder_goes_without_figures_when_a_rate_is_missing(org):
    day = date(2026, 9, 1)
    reminder = plan_step(org, "relance_2", day)
    dispatch_now(org, noon(day))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    body = " ".join(mail.outbox[0].body.split())
    # no contractual rate set: the legal rate and its article are named, never « nos conditions générales »
    assert "pénalités de retard au taux de la Banque centrale européenne majoré de 10 points (article L441-10 II" in body
    assert "conditions générales" not in body
    assert "Pénalités" not in mail.outbox[0].body.split("Montant total")[0]  # no figures column
    event = Event.objects.get(kind="law.rate_missing")
    assert "2026-S2" in event.data["message"]


def test_consumer_never_gets_penalties(org, tmp_path):
    import_file(org, write(tmp_path, "g.csv", invoices_csv([("F-9", "C003", "2025-01-02", "2025-02-01", "300,00")])))
    from relance.dunning.models import Step

    step = Step.objects.get(scenario__organisation=org, template="mise_en_demeure")
    invoice = Invoice.objects.get(number="F-9")
    reminder = Reminder.objects.create(organisation=org, customer=invoice.customer, step=step, channel=step.channel,
                                       planned_for=date(2025, 4, 1), idempotency_key="k-consumer")
    reminder.lines.create(invoice=invoice, step_position=step.position, amount_due=invoice.amount_due)
    dispatch_now(org, noon(date(2025, 4, 1)))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert "L441-10" not in reminder.body_text and not re.search(r"40\s€", reminder.body_text)
    assert "intérêts au taux légal à compter de la présente mise en demeure" in reminder.body_text


def test_adding_rates_is_validated(org):
    from relance.errors import Conflict, InvalidInput

    with pytest.raises(InvalidInput):
        add_rate("2026-S3", ecb="2.15", source="x")
    with pytest.raises(InvalidInput):
        add_rate("2026-S2", individual="6,5", source="x")  # the other category is missing
    with pytest.raises(InvalidInput):
        add_rate("2026-S2", ecb="abc", source="x")
    with pytest.raises(InvalidInput):
        add_rate("2026-S2", ecb="2.15", source=" ")
    with pytest.raises(Conflict):
        add_rate("2025-S1", individual="1", other="1", source="x")  # contradicts the shipped, sourced table
