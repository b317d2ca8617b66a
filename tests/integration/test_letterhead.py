"""A letter or formal notice of an organisation without postal address, signatory or SIREN is
refused before it is made (issue #11): a typed error naming what is missing and the page that
completes the organisation; the reminder fails visibly, nothing is printed nor recorded as sent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from relance.channels.post import letterhead_missing, require_letterhead
from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.plan_messages import agreement_document
from relance.errors import Conflict, OrganisationIncomplete
from relance.events.models import Event
from relance.holds.services.plans import propose_plan
from relance.ledger.models import Invoice
from relance.ledger.services.imports import import_file
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write
from tests.integration.test_law_in_reminders import noon, plan_step

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def org(tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org(address1="", siren="", signature_name="")
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))
    import_file(org, write(tmp_path, "f.csv", invoices_csv([("F-1", "C001", "2026-01-02", "2026-02-01", "1000,00")])))
    return org


def test_the_error_names_what_is_missing_and_where_to_complete_it(org):
    assert len(letterhead_missing(org)) == 3
    with pytest.raises(OrganisationIncomplete) as error:
        require_letterhead(org)
    message = error.value.message
    assert "adresse postale" in message and "signataire" in message and "SIREN" in message
    assert f"/admin/ledger/organisation/{org.pk}/change/" in message
    assert isinstance(error.value, Conflict) and error.value.exit_code == 6
    assert error.value.as_dict()["missing"] == error.value.missing
    org.address1, org.siren, org.signature_name = "5 place Bellecour", "552100554", "Sophie Laurent"
    assert letterhead_missing(org) == []
    require_letterhead(org)


def test_a_formal_notice_of_an_incomplete_organisation_is_refused_before_it_is_made(org):
    day = date(2026, 3, 16)
    reminder = plan_step(org, "mise_en_demeure", day)
    dispatch_now(org, noon(day))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED
    assert "courrier refusé" in reminder.last_error and "SIREN" in reminder.last_error
    assert not reminder.document and not Event.objects.filter(kind="reminder.sent").exists()
    assert Invoice.objects.get(number="F-1").formal_notice_on is None  # nothing counts as received


def test_an_email_reminder_is_not_concerned(org):
    day = date(2026, 2, 10)
    reminder = plan_step(org, "relance_1", day)
    dispatch_now(org, noon(day))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and len(mail.outbox) == 1


def test_a_plan_agreement_letter_is_refused_too(org):
    customer = Invoice.objects.get(number="F-1").customer
    plan = propose_plan(org, customer, ["F-1"], count=2, first_due=date(2026, 4, 1), today=date(2026, 3, 16))
    with pytest.raises(OrganisationIncomplete):
        agreement_document(org, plan, date(2026, 3, 16))
    assert Decimal(plan.total) == Decimal("1000.00")
