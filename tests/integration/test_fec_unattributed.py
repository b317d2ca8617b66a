"""Unattributed credits on collective FEC customer accounts (issue #11): a payment whose label
names no customer, or names it another way, settles nothing; the invoices it may have paid must
not be chased. The import reports it (amount, count, account, lines), the customers of that
account are paused until a person assigns the credits, the pseudo-customer « (SANS LIBELLÉ) » is
never chased, and assigning the labels or re-importing a corrected FEC lifts the pauses, evented."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from relance.core.formats.fec import NO_LABEL
from relance.dunning.models import Reminder
from relance.dunning.services.planner import plan_day
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import Hold
from relance.holds.services.collective import AUTO_ENDED_BY
from relance.holds.services.holds import lift
from relance.ledger.models import Customer, Invoice, Membership, Organisation
from relance.ledger.services import fec_import as fec_service
from relance.ledger.services.fec_import import NO_LABEL_CODE, NOT_A_CUSTOMER_REASON, UNATTRIBUTED_REASON, map_fec_label
from relance.ledger.services.fec_import.identities import _label_code
from tests.builders import make_org
from tests.integration.test_fec_import import fec, receipt, sale

pytestmark = pytest.mark.django_db

D = Decimal
DAY = date(2026, 11, 23)  # every invoice of the files below is overdue


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Path, pinned_clock: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org() -> Organisation:
    return make_org(siren="")


def import_fec(org: Organisation, path: Path) -> Any:
    return fec_service.import_fec(org, path, default_kind="entreprise")


def named(entry: list[str], old: str, new: str) -> list[str]:
    return [line.replace(old, new) for line in entry]


def book(remise_label: str = "Remise CB") -> list[list[str]]:
    """Two customers on the collective account 41100000 (no sub-ledger), a card remittance
    naming no one (line 6) and a transfer naming Dupont another way (« Dupond », line 8)."""
    return [
        named(sale("VE1", "20260910", "", "", "F101", "100,00"), "Facture F101 ", "Facture F101 Dupont"),
        named(sale("VE2", "20260912", "", "", "F102", "200,00"), "Facture F102 ", "Facture F102 Martin"),
        named(receipt("BQ1", "20260920", "", "", "R1", "100,00"), "Virement ", remise_label),
        named(receipt("BQ2", "20260921", "", "", "R2", "50,00"), "Virement ", "Vir Dupond"),
    ]


def active(org: Organisation, prefix: str) -> dict[str, str]:
    return dict(Hold.objects.filter(organisation=org, state=Hold.State.ACTIVE, reason__startswith=prefix)
                .values_list("customer__code", "reason"))


def planned(org: Organisation) -> set[str]:
    return set(Reminder.objects.filter(organisation=org, status__in=[Reminder.Status.PLANNED,
                                                                     Reminder.Status.AWAITING_APPROVAL])
               .values_list("customer__code", flat=True))


def test_the_pseudo_customer_code_is_the_importers_own() -> None:
    assert _label_code(NO_LABEL, set()) == NO_LABEL_CODE


def test_unattributed_credits_are_reported_and_pause_the_accounts_customers(org, tmp_path):
    report = import_fec(org, fec(tmp_path, "fec.txt", *book()))
    (found,) = report.unattributed
    assert (found.account, found.amount, found.count) == ("41100000", D("150.00"), 2)
    assert found.lines == [7, 9]  # the customer lines of BQ1 and BQ2 (the header is line 1)
    assert dict(found.labels) == {NO_LABEL: D("100.00"), "DUPOND": D("50.00")}
    assert found.customers == 2
    data = report.as_dict()["unattributed"]
    assert data == [{"account": "41100000", "amount": "150.00", "count": 2, "lines": [7, 9], "customers_paused": 2,
                     "labels": [{"label": NO_LABEL, "amount": "100.00"}, {"label": "DUPOND", "amount": "50.00"}]}]
    text = report.as_text()
    assert ("Règlements non attribués sur le compte collectif 41100000 : 150,00\xa0€ en 2 écriture(s) (lignes 7, 9)"
            in text)
    assert "relance alias fec-label \"(SANS LIBELLÉ)\" CODE_CLIENT" in text
    # both real customers of the account are paused, the pseudo-customer is never chased
    reason = f"{UNATTRIBUTED_REASON} 41100000 : 150,00\xa0€ à affecter"
    assert active(org, UNATTRIBUTED_REASON) == {"FEC-DUPONT": reason, "FEC-MARTIN": reason}
    assert list(active(org, NOT_A_CUSTOMER_REASON)) == [NO_LABEL_CODE]
    holds = Hold.objects.filter(organisation=org, state=Hold.State.ACTIVE)
    assert {(h.kind, h.invoice_id, h.until) for h in holds} == {(Hold.Kind.PAUSE, None, None)}
    started = Event.objects.filter(organisation=org, kind="pause.started")
    assert started.count() == 3
    assert {e.data["account"] for e in started} == {"41100000", ""}
    # nothing is planned for anyone
    plan_day(org, DAY)
    assert planned(org) == set()
    assert Invoice.objects.get(organisation=org, number="F101").amount_due == D("100.00")
    assert not verify_chain(org)


def test_assigning_the_labels_lifts_the_pauses_evented_and_dunning_resumes(org, tmp_path):
    import_fec(org, fec(tmp_path, "fec.txt", *book()))
    # « DUPOND » is Dupont: 100,00 € are still to assign, the pauses are renewed with that amount
    assert map_fec_label(org, "DUPOND", "FEC-DUPONT") == 0
    assert Invoice.objects.get(organisation=org, number="F101").amount_due == D("50.00")
    reason = f"{UNATTRIBUTED_REASON} 41100000 : 100,00\xa0€ à affecter"
    assert set(active(org, UNATTRIBUTED_REASON).values()) == {reason}
    plan_day(org, DAY)
    assert planned(org) == set()
    # the card remittance paid Martin's invoice: nothing is left to assign, the pauses are lifted
    map_fec_label(org, NO_LABEL, "FEC-MARTIN")
    assert active(org, UNATTRIBUTED_REASON) == {}
    lifted = Event.objects.filter(organisation=org, kind="pause.lifted")
    assert lifted.count() == 4  # twice the two customers
    assert all(e.data["source"] == "fec" for e in lifted)
    assert set(Hold.objects.filter(organisation=org, state=Hold.State.LIFTED).values_list("ended_by", flat=True)) \
        == {AUTO_ENDED_BY}
    assert Invoice.objects.get(organisation=org, number="F102").amount_due == D("100.00")
    plan_day(org, DAY)
    assert planned(org) == {"FEC-DUPONT", "FEC-MARTIN"}
    # the pseudo-customer stays paused: it is no one
    assert list(active(org, NOT_A_CUSTOMER_REASON)) == [NO_LABEL_CODE]
    assert not verify_chain(org)


def test_reimporting_a_corrected_fec_lifts_the_pauses(org, tmp_path):
    import_fec(org, fec(tmp_path, "fec.txt", *book()))
    assert len(active(org, UNATTRIBUTED_REASON)) == 2
    # the accountant names the customer of each payment
    corrected = book(remise_label="Remise CB Martin")
    corrected[3] = named(corrected[3], "Vir Dupond", "Vir Dupont")
    report = import_fec(org, fec(tmp_path, "fec2.txt", *corrected))
    assert report.unattributed == []
    assert "non attribués" not in report.as_text()
    assert active(org, UNATTRIBUTED_REASON) == {}
    assert Event.objects.filter(organisation=org, kind="pause.lifted").count() == 2
    assert Invoice.objects.get(organisation=org, number="F102").amount_due == D("100.00")
    assert Invoice.objects.get(organisation=org, number="F101").amount_due == D("50.00")
    plan_day(org, DAY)
    assert planned(org) == {"FEC-DUPONT", "FEC-MARTIN"}
    assert not verify_chain(org)


def test_a_pause_lifted_by_hand_is_not_renewed_for_the_same_state(org, tmp_path):
    import_fec(org, fec(tmp_path, "fec.txt", *book()))
    dupont = Customer.objects.get(organisation=org, code="FEC-DUPONT")
    hold = Hold.objects.get(customer=dupont, state=Hold.State.ACTIVE)
    lift(org, hold, actor="sophie", today=DAY)
    # a later FEC, same unattributed credits, one more customer on the account
    rows = [*book(), named(sale("VE3", "20261001", "", "", "F103", "80,00"), "Facture F103 ", "Facture F103 Leroy")]
    report = import_fec(org, fec(tmp_path, "fec2.txt", *rows))
    assert report.unattributed[0].amount == D("150.00")
    assert set(active(org, UNATTRIBUTED_REASON)) == {"FEC-MARTIN", "FEC-LEROY"}
    plan_day(org, DAY)
    assert planned(org) == {"FEC-DUPONT"}
    # a new unattributed payment is a new state: Dupont is paused again
    rows.append(named(receipt("BQ3", "20261005", "", "", "R3", "30,00"), "Virement ", "Remise CB"))
    import_fec(org, fec(tmp_path, "fec3.txt", *rows))
    assert set(active(org, UNATTRIBUTED_REASON)) == {"FEC-DUPONT", "FEC-MARTIN", "FEC-LEROY"}
    assert not verify_chain(org)


def test_the_customer_page_shows_the_pause_and_what_to_do(org, tmp_path):
    import_fec(org, fec(tmp_path, "fec.txt", *book()))
    user = User.objects.create_user("sophie", password="motdepasse-solide-123")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(user)
    martin = Customer.objects.get(organisation=org, code="FEC-MARTIN")
    page = client.get(reverse("web:customer", args=[martin.pk])).content.decode()
    assert "paiements non attribués sur le compte collectif 41100000 : 150,00\xa0€ à affecter" in page
    assert "relance alias fec-label" in page
    pseudo = Customer.objects.get(organisation=org, code=NO_LABEL_CODE)
    page = client.get(reverse("web:customer", args=[pseudo.pk])).content.decode()
    assert "n’est pas un client : jamais relancé" in page


def test_accounts_with_sub_ledger_or_named_for_one_customer_are_not_concerned(org, tmp_path):
    path = fec(tmp_path, "fec.txt",
               sale("VE1", "20260910", "C1", "DUPONT", "F1", "100,00"),
               receipt("BQ1", "20260920", "C1", "DUPONT", "R1", "300,00"),
               sale("VE2", "20260911", "", "", "F2", "50,00", account="411MARTIN", account_label="Martin"),
               receipt("BQ2", "20260921", "", "", "R2", "80,00", account="411MARTIN", account_label="Martin"))
    report = import_fec(org, path)
    assert report.unattributed == []
    assert not Hold.objects.filter(organisation=org).exists()


# ---------------------------------------------------------------- the real Agrigest export


def test_agrigest_unattributed_credits_by_account(realdata, org):
    report = import_fec(org, realdata / "fec" / "ekylibre_agrigest_123456789FEC20230331.txt")
    by_account = {u.account: (u.amount, u.count, u.customers) for u in report.unattributed}
    assert by_account == {
        "41110900": (D("3190.18"), 5, 2),
        "41115000": (D("5075.16"), 27, 9),  # 26 card remittances « Rem Cb » name no one: 4 700,64 €
        "41115300": (D("37454.13"), 41, 37),  # « Vrt Grenier MF » 18 000 € for the invoice of « MF Guillaume »…
    }
    assert sum((u.amount for u in report.unattributed), D(0)) == D("45719.47")  # the customers in credit
    assert dict(report.unattributed[1].labels)[NO_LABEL] == D("4700.64")
    assert 665 in report.unattributed[1].lines
    assert Hold.objects.filter(organisation=org, state=Hold.State.ACTIVE).count() == 2 + 9 + 37 + 1
    plan_day(org, DAY)
    chased = planned(org)
    held = set(Hold.objects.filter(organisation=org, state=Hold.State.ACTIVE).values_list("customer__code", flat=True))
    assert not chased & held and NO_LABEL_CODE not in chased
    # the customers of the individual accounts (« CLIENTS Bigot », COOP…) are still chased
    assert chased and all(not code.startswith("FEC-") for code in chased)
    # « GRENIER MF » paid « MF GUILLAUME »'s 18 000 € invoice
    map_fec_label(org, "GRENIER MF", "FEC-MF-GUILLAUME")
    assert {u.account: u.amount for u in fec_service.unattributed_credits(org).values()}["41115300"] == \
        D("19454.13")
    assert not verify_chain(org)


def test_new_business_customers_of_a_fec_have_no_siren_and_the_report_says_so(org, tmp_path):
    report = import_fec(org, fec(tmp_path, "fec.txt", *book()))
    assert any(w.startswith("4 nouveau(x) client(s) créé(s) comme entreprises sans SIREN ni SIRET")
               for w in report.warnings)
    consumers = fec_service.import_fec(make_org(slug="autre", siren=""), fec(tmp_path, "fec2.txt", *book()),
                                       default_kind="particulier")
    assert not any("SIREN" in w for w in consumers.warnings)


def test_the_import_page_reports_the_unattributed_credits(org, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = User.objects.create_user("paul", password="motdepasse-solide-123")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(user)
    raw = fec(tmp_path, "fec.txt", *book()).read_bytes()
    page = client.post(reverse("web:imports"), {"format": "fec", "customer_prefix": "411", "default_kind": "entreprise",
                                               "uploads": [SimpleUploadedFile("fec.txt", raw)]})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Règlements non attribués sur le compte collectif 41100000 : 150,00\xa0€ en 2 écriture(s) (lignes 7, 9)" \
        in text
    assert "Ses 2 client(s) avec des factures ouvertes sont en pause" in text


def test_relance_alias_says_what_is_left_to_assign(org, tmp_path, capsys):
    import json

    from relance.cli.main import main

    import_fec(org, fec(tmp_path, "fec.txt", *book()))
    assert main(["alias", "fec-label", "DUPOND", "FEC-DUPONT", "--org", org.slug]) == 0
    out = capsys.readouterr().out
    assert "Reste à affecter sur le compte collectif 41100000 : 100,00\xa0€ en 1 écriture(s)" in out
    assert main(["alias", "fec-label", NO_LABEL, "FEC-MARTIN", "--org", org.slug, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unattributed"] == [] and data["customer"] == "FEC-MARTIN"
    assert active(org, UNATTRIBUTED_REASON) == {}


def test_a_credit_whose_key_is_too_long_to_read_its_account_pauses_every_derived_customer(org, tmp_path):
    account = "4110000000000000000000"  # 22 characters: the credit's reference keeps only a hash of its key
    rows = [
        named(sale("VE1", "20260910", "", "", "F101", "100,00", account=account), "Facture F101 ", "Facture F101 Dupont"),
        named(receipt("BQ" + "1" * 28, "20260920", "", "", "R" * 30, "40,00", account=account), "Virement ", "Remise CB"),
    ]
    report = import_fec(org, fec(tmp_path, "fec.txt", *rows))
    (found,) = report.unattributed
    assert (found.account, found.amount, found.count, found.lines) == ("", D("40.00"), 1, [5])
    assert "Règlements non attribués sur un compte collectif : 40,00\xa0€" in report.as_text()
    assert active(org, UNATTRIBUTED_REASON) == {
        "FEC-DUPONT": f"{UNATTRIBUTED_REASON} (compte illisible) : 40,00\xa0€ à affecter"}
