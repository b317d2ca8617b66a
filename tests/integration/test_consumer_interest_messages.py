"""For a consumer, legal interest runs from the formal notice (C. civ. 1231-6, 1344-1; issue #11):
a message sent after it — through the dispatcher, from the stored invoice — states the interest
accrued since the notice and the notice's date, read from the invoice's ``formal_notice_on``;
a message before it states none. (The last reminder's template stands for any message listing the
invoice; the reissued formal notice is the real later message of the scenario.)"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from relance.dunning.models import Reminder, Step
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.escalation import reissue_formal_notice
from relance.ledger.models import Invoice, Organisation
from relance.ledger.services.imports import import_file
from relance.rates.services import add_rate
from tests.builders import CUSTOMERS_CSV, invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)
DAY = date(2026, 11, 23)


@pytest.fixture
def org(tmp_path, settings, pinned_clock) -> Organisation:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    org = make_org()
    # the shipped tables stop before 2026-S2: a hypothetical legal rate for it (the interest needs one)
    add_rate("2026-S2", individual="6,50", other="2,50", ecb="2,40", source="hypothèse de test")
    import_file(org, write(tmp_path, "clients.csv", CUSTOMERS_CSV))  # C003 is a consumer (letters)
    import_file(org, write(tmp_path, "f.csv", invoices_csv([("F-9", "C003", "2026-05-02", "2026-06-01", "3000,00")])))
    return org


def send(org: Organisation, template: str, key: str) -> Reminder:
    step = Step.objects.get(scenario__organisation=org, template=template)
    invoice = Invoice.objects.get(number="F-9")
    reminder = Reminder.objects.create(organisation=org, customer=invoice.customer, step=step, channel=step.channel,
                                       planned_for=DAY, idempotency_key=key)
    reminder.lines.create(invoice=invoice, step_position=step.position, amount_due=invoice.amount_due)
    dispatch_now(org, datetime(DAY.year, DAY.month, DAY.day, 11, tzinfo=UTC))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT, reminder.last_error
    return reminder


def test_messages_after_the_formal_notice_state_the_interest_since_its_date(org: Organisation) -> None:
    before = send(org, "relance_3", "k-before").body_text
    assert "intérêts de retard depuis notre mise en demeure" not in before
    Invoice.objects.filter(number="F-9").update(formal_notice_on=date(2026, 9, 1))
    after = send(org, "relance_3", "k-after").body_text.replace("\u202f", " ").replace("\xa0", " ")
    assert "17,05 € d’intérêts de retard depuis notre mise en demeure du 1er septembre 2026, soit 3 017,05 €" in after
    # the creditor is a company: the legal rate of the « autres cas » (2,50 %), from the notice to today
    assert "Intérêts au taux légal de 2,50 % l’an (articles 1231-6 et 1344-1 du Code civil), de notre mise en " \
           "demeure du 1er septembre 2026 au 23 novembre 2026." in after
    assert "L441-10" not in after and not re.search(r"40\s€", after) and "pénalités" not in after
    # a formal notice reissued at a person's request reads the same date
    reissued = reissue_formal_notice(org, Invoice.objects.get(number="F-9"), reason="adresse changée",
                                     actor="sophie", today=DAY)
    dispatch_now(org, datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=UTC))
    reissued.refresh_from_db()
    text = reissued.body_text.replace("\u202f", " ").replace("\xa0", " ")
    assert "courus depuis notre mise en demeure du 1er septembre 2026" in text, text[:3000]
