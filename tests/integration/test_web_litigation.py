"""The « Contentieux » pages (issue #16): the list with its states, next actions, documents and
exports, the invoices nearing their limitation (also on the dashboard); a case walked through
the injonction de payer by its forms (documents produced, court, request, order, service,
hand-over, closing as irrecoverable); its documents served only to the organisation; the
recipients page; read-only members who see but cannot act, restricted collectors who see their
customers only."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relance import clock
from relance.core import litigation as machine
from relance.dunning.models import Reminder, ReminderLine
from relance.events.models import Event
from relance.ledger.models import Customer, Invoice, Membership, Organisation
from relance.litigation.claim import Claim, ClaimLine
from relance.litigation.models import CaseDocument, Handover, HandoverRecipient, LitigationCase
from relance.litigation.services import close_case, file_case, open_cases
from relance.rates.services import add_rate
from relance.web.views_litigation import CLAIM_LABELS, NEXT_ACTION_TEXTS
from tests.builders import make_customer, make_org, make_user

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% ordonnance\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HANDOVER = "Transmission au contentieux"

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _world(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Files in a temporary folder, emails kept in memory, the services' clock at ``NOON`` and
    the ECB rate of the semesters the invoices are late in."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for semester in ("2026-S1", "2026-S2"):
        add_rate(semester, ecb="2.15", source="hypothèse de test", actor="test")
    with clock.frozen(NOON):
        yield


def make_invoice(org: Organisation, customer: Customer, number: str, due: date, amount: str,
                 issued: date | None = None) -> Invoice:
    return Invoice.objects.create(organisation=org, customer=customer, number=number,
                                  issue_date=issued or due - timedelta(days=30), due_date=due,
                                  amount_incl_tax=Decimal(amount), amount_due=Decimal(amount),
                                  last_step_position=5, next_action_date=DAY)


def make_letter(org: Organisation, customer: Customer, invoices: list[Invoice], sent_on: date) -> Reminder:
    """A formal notice sent by registered letter, with its PDF, tracking number and receipt."""
    reminder = Reminder.objects.create(
        organisation=org, customer=customer, channel="registered_letter", planned_for=sent_on,
        status=Reminder.Status.SENT, idempotency_key=f"web-lit-{next(_keys)}", subject="Mise en demeure de payer",
        sent_at=datetime(sent_on.year, sent_on.month, sent_on.day, 9, 30, tzinfo=UTC),
        tracking_number="1A12345678901", received_on=sent_on + timedelta(days=2))
    reminder.document.save(f"{org.slug}/mise-en-demeure-{reminder.pk}.pdf", ContentFile(PDF), save=False)
    reminder.document_sha256 = hashlib.sha256(PDF).hexdigest()
    reminder.save(update_fields=["document", "document_sha256"])
    ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=4,
                                                   amount_due=i.amount_due) for i in invoices])
    return reminder


def opened(org: Organisation, customer: Customer, invoices: list[Invoice]) -> LitigationCase:
    (case,) = open_cases(org, DAY, {customer.pk: [i.pk for i in invoices]}, step_label=HANDOVER)
    return case


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def martin(org: Organisation) -> Customer:
    return make_customer(org, "C001", "Boulangerie Martin SARL", siren="732829320", address1="12 rue des Lilas",
                         postal_code="69003", city="Lyon")


@pytest.fixture
def case(org: Organisation, martin: Customer) -> LitigationCase:
    invoices = [make_invoice(org, martin, "FA-2026-0101", date(2026, 9, 1), "1200.00"),
                make_invoice(org, martin, "FA-2026-0107", date(2026, 9, 8), "230.50")]
    make_letter(org, martin, invoices, date(2026, 10, 12))
    return opened(org, martin, invoices)


@pytest.fixture
def claire(client: Client, org: Organisation) -> Client:
    client.force_login(make_user("claire", org))
    return client


def page_of(client: Client, case: LitigationCase) -> str:
    response = client.get(reverse("web:litigation_case", kwargs={"pk": case.pk}))
    assert response.status_code == 200
    return response.content.decode()


def act(client: Client, case: LitigationCase, action: str, data: dict[str, Any]) -> str:
    """Post a case's form and follow back to the page: the page with its message."""
    url = reverse("web:litigation_action", kwargs={"pk": case.pk, "action": action})
    response = client.post(url, data, follow=True)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def upload(name: str = "ordonnance.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --------------------------------------------------------------------------- the list


def test_the_list_shows_each_state_with_its_count_next_action_and_documents(
        claire: Client, org: Organisation, martin: Customer, case: LitigationCase) -> None:
    garage = make_customer(org, "C002", "Garage du Centre")
    other = opened(org, garage, [make_invoice(org, garage, "FA-2026-0200", date(2026, 9, 15), "2400.00")])
    file_case(org, other, actor="sophie", on=DAY, handled_by="Maître Durand")
    CaseDocument.objects.create(case=case, kind=CaseDocument.Kind.OTHER, title="Courrier", sha256="0" * 64,
                                file=ContentFile(PDF, name="courrier.pdf"))

    listing = claire.get(reverse("web:litigation")).content.decode()
    for state in LitigationCase.State.values:
        assert f'data-testid="filter-{state}"' in listing
    assert "Ouvert (1)" in listing and "Transmis (1)" in listing and "Requête déposée (0)" in listing
    assert "Ordonnance signifiée (0)" in listing and "Tous (2)" in listing
    assert "Produire le dossier de recouvrement et la requête" in listing  # opened: its next action
    assert "Suivre le dossier auprès de son destinataire" in listing  # filed
    assert f'data-testid="documents-{case.pk}">1 document<' in listing
    assert f'data-testid="documents-{other.pk}"' not in listing
    assert "1\u202f430,50\xa0€" in listing
    for name in ("litigation_export_csv", "litigation_export_json", "litigation_recipients",
                 "litigation_writeoffs_csv", "litigation_writeoffs_fec"):
        assert reverse(f"web:{name}") in listing
    assert 'data-testid="prescription-watch"' in listing and "Prescription à surveiller" in listing

    filtered = claire.get(reverse("web:litigation") + "?etat=filed").content.decode()
    assert filtered.count('data-testid="case-') == 1 and "Garage du Centre" in filtered
    assert f"{reverse('web:litigation_export_csv')}?etat=filed" in filtered


def test_the_exports_answer(claire: Client, org: Organisation, case: LitigationCase) -> None:
    response = claire.get(reverse("web:litigation_export_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    assert "FA-2026-0101" in text and "Boulangerie Martin SARL" in text

    response = claire.get(reverse("web:litigation_export_json") + "?etat=opened")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    found = json.loads(response.content)
    assert [c["case"] for c in found] == [case.pk]
    assert claire.get(reverse("web:litigation_export_json") + "?etat=closed").json() == []
    assert claire.get(reverse("web:litigation_export_csv") + "?etat=nope").status_code == 404

    close_case(org, case, outcome="irrecoverable", actor="sophie", on=DAY)
    response = claire.get(reverse("web:litigation_writeoffs_csv") + "?du=2026-01-01&au=2026-12-31")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "irrecouvrables-atelier-20260101-20261231.csv" in response["Content-Disposition"]
    assert "FA-2026-0101" in response.content.decode("utf-8-sig")
    response = claire.get(reverse("web:litigation_writeoffs_fec"))  # by default: the year to date
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert "20260101-20261123.fec.txt" in response["Content-Disposition"]
    assert "FA-2026-0101" in response.content.decode("utf-8-sig")

    response = claire.get(reverse("web:litigation_writeoffs_csv") + "?du=2026-12-31&au=2026-01-01", follow=True)
    assert "La période commence après sa fin" in response.content.decode()
    response = claire.get(reverse("web:litigation_writeoffs_csv") + "?du=31/12/2026", follow=True)
    assert "Date illisible « 31/12/2026 »" in response.content.decode()


# --------------------------------------------------------------------------- the case page


def test_the_case_page_shows_the_claim_the_court_rule_and_the_forms(claire: Client, org: Organisation,
                                                                     case: LitigationCase) -> None:
    page = page_of(claire, case)
    assert 'data-testid="next-action"' in page and "Produire le dossier de recouvrement et la requête" in page
    # the claim to date, element by element with its basis
    assert "Principal (factures restant dues)" in page and "1\u202f430,50\xa0€" in page
    assert "art. 1103 et 1353 du Code civil" in page
    assert "Pénalités de retard" in page and "art. L441-10 II du Code de commerce" in page
    assert "Indemnité forfaitaire pour frais de recouvrement" in page and "80,00\xa0€" in page  # 2 × 40 €
    assert 'data-testid="claim-lines"' in page
    # the court: art. 1406, the tribunal de commerce suggested for a business
    assert "Art. 1406 du Code de procédure civile" in page
    assert '<option value="commerce" selected>' in page
    for form in ("form-produce", "form-document", "form-court", "form-step-request_filed", "form-handover",
                 "form-file", "form-close"):
        assert f'data-testid="{form}"' in page, form
    assert 'data-testid="form-step-order_issued"' not in page  # not before the request
    assert '<option value="irrecoverable">Irrécouvrable</option>' in page


def test_the_texts_the_pages_translate_are_those_of_the_machine_and_the_claim(case: LitigationCase) -> None:
    assert set(NEXT_ACTION_TEXTS) == {text for text in machine.NEXT_ACTIONS.values() if text}
    invoice = case.lines.first().invoice  # type: ignore[union-attr]
    one = Decimal("1.00")
    labels = {label for business in (True, False) for label, _amount, _basis in Claim(
        DAY, business, "EUR", [ClaimLine(invoice, one, penalties=one, interest=one, indemnity=one, complement=one)]
    ).elements()}
    assert labels == set(CLAIM_LABELS)


def test_a_consumer_goes_to_the_tribunal_judiciaire(claire: Client, org: Organisation) -> None:
    petit = make_customer(org, "C003", "Jean Petit", is_business=False)
    invoice = make_invoice(org, petit, "FA-2026-0300", date(2026, 9, 1), "300.00")
    make_letter(org, petit, [invoice], date(2026, 10, 12))
    page = page_of(claire, opened(org, petit, [invoice]))
    assert '<option value="judiciaire" selected>' in page
    assert "Pénalités de retard" not in page and "Intérêts" in page


def test_a_case_walks_the_injonction_de_payer_through_its_forms(claire: Client, org: Organisation,
                                                                case: LitigationCase) -> None:
    page = act(claire, case, "produire", {})
    assert "Documents produits" in page
    produced = set(CaseDocument.objects.filter(case=case).values_list("kind", flat=True))
    assert {"evidence_pdf", "evidence_zip", "request", "small_claim"} <= produced  # 1 430,50 € ≤ 5 000 €
    assert len(re.findall(r'data-testid="document-\d+"', page)) == CaseDocument.objects.filter(case=case).count()
    again = act(claire, case, "produire", {})  # produced again: the first ones are previous versions
    assert again.count("version précédente") == len(produced)

    page = act(claire, case, "etape", {"target": "request_filed", "on": "2026-11-23", "court_reference": "26/01234"})
    assert "Indiquez la juridiction saisie" in page  # no court yet: nothing recorded
    case.refresh_from_db()
    assert case.state == "opened"

    page = act(claire, case, "juridiction", {"court_kind": "commerce", "court_name": "Tribunal de commerce de Lyon",
                                             "court_address": "44 rue de Bonnel\n69003 Lyon"})
    assert "Juridiction enregistrée." in page and "Tribunal de commerce de Lyon" in page

    page = act(claire, case, "etape", {"target": "request_filed", "on": "2026-11-23", "court_reference": "26/01234"})
    case.refresh_from_db()
    assert case.state == "request_filed" and case.court_reference == "26/01234"
    assert "Étape enregistrée : Requête déposée." in page and "Requête en injonction de payer déposée" in page
    assert 'data-testid="form-step-order_issued"' in page and 'data-testid="form-file"' not in page

    page = act(claire, case, "etape", {"target": "order_issued", "on": "2026-11-23", "document": upload()})
    case.refresh_from_db()
    assert case.state == "order_issued" and case.order_issued_on == DAY
    order = CaseDocument.objects.get(case=case, kind=CaseDocument.Kind.ORDER)
    assert order.sha256 == hashlib.sha256(PDF).hexdigest()
    assert reverse("web:litigation_document", kwargs={"pk": case.pk, "doc_pk": order.pk}) in page

    act(claire, case, "etape", {"target": "served", "on": "2026-11-23", "document": upload("signification.pdf")})
    case.refresh_from_db()
    assert case.state == "served" and CaseDocument.objects.filter(case=case, kind="service").exists()

    page = act(claire, case, "document", {"kind": "other", "title": "Courrier de l’avocat",
                                          "document": upload("courrier.pdf")})
    assert "Document ajouté : Courrier de l’avocat." in page
    assert act(claire, case, "document", {"kind": "other"}).count("Choisissez le fichier à ajouter") == 1

    page = act(claire, case, "cloturer", {"outcome": "irrecoverable", "on": "2026-11-23", "note": "Liquidation"})
    case.refresh_from_db()
    assert case.state == "closed" and case.outcome == "irrecoverable"
    assert "Dossier clôturé comme irrécouvrable" in page and 'data-testid="form-close"' not in page
    kinds = list(Event.objects.filter(organisation=org, kind__startswith="litigation.").values_list("kind", flat=True))
    assert {"litigation.request_filed", "litigation.order_issued", "litigation.served", "litigation.document_added",
            "litigation.closed"} <= set(kinds)


def test_a_step_out_of_order_is_refused_with_a_message(claire: Client, case: LitigationCase) -> None:
    page = act(claire, case, "etape", {"target": "served", "on": "2026-11-23"})
    assert "Transition impossible" in page
    assert "Étape inconnue" in act(claire, case, "etape", {"target": "opened", "on": "2026-11-23"})
    case.refresh_from_db()
    assert case.state == "opened"
    url = reverse("web:litigation_action", kwargs={"pk": case.pk, "action": "nope"})
    assert claire.post(url, {}).status_code == 404


def test_documents_download_only_for_the_organisation(client: Client, org: Organisation, martin: Customer,
                                                      case: LitigationCase) -> None:
    document = CaseDocument.objects.create(case=case, kind=CaseDocument.Kind.ORDER, title="Ordonnance",
                                           sha256=hashlib.sha256(PDF).hexdigest(), size=len(PDF),
                                           file=ContentFile(PDF, name="ordonnance.pdf"))
    url = reverse("web:litigation_document", kwargs={"pk": case.pk, "doc_pk": document.pk})
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(make_user("claire", org))
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("attachment")
    # another case's number in the address: not found
    garage = make_customer(org, "C002", "Garage du Centre")
    other = opened(org, garage, [make_invoice(org, garage, "FA-2026-0200", date(2026, 9, 15), "2400.00")])
    assert client.get(reverse("web:litigation_document", kwargs={"pk": other.pk, "doc_pk": document.pk})).status_code == 404
    # a member of another organisation
    client.force_login(make_user("zoe", make_org(slug="autre"), role=Membership.Role.ADMIN))
    assert client.get(url).status_code == 404
    # a restricted collector, for a customer not theirs
    org.collectors_see_assigned_only = True
    org.save()
    paul = make_user("paul", org)
    Customer.objects.filter(pk=martin.pk).update(collector=make_user("marc", org))
    client.force_login(paul)
    assert client.get(url).status_code == 404
    Customer.objects.filter(pk=martin.pk).update(collector=paul)
    assert client.get(url).status_code == 200


# --------------------------------------------------------------------------- hand-over and recipients


def test_recipients_are_added_changed_and_offered_for_the_hand_over(claire: Client, org: Organisation,
                                                                    case: LitigationCase) -> None:
    url = reverse("web:litigation_recipients")
    page = claire.get(url).content.decode()
    assert "Aucun destinataire pour l’instant." in page and 'data-testid="form-recipient"' in page

    response = claire.post(url, {"kind": "lawyer", "name": "Maître Durand", "email": "durand@avocats.test",
                                 "delivery": "attachment", "link_days": "14", "active": "on"}, follow=True)
    page = response.content.decode()
    assert "Destinataire enregistré : Maître Durand." in page
    durand = HandoverRecipient.objects.get(organisation=org)
    assert (durand.kind, durand.email, durand.active) == ("lawyer", "durand@avocats.test", True)

    response = claire.post(url, {"kind": "lawyer", "name": "Maître Durand", "delivery": "attachment"}, follow=True)
    assert "Un destinataire s’appelle déjà « Maître Durand »" in response.content.decode()
    assert HandoverRecipient.objects.count() == 1

    edit = claire.get(url + f"?modifier={durand.pk}").content.decode()
    assert "Modifier « Maître Durand »" in edit and 'value="durand@avocats.test"' in edit
    claire.post(url, {"pk": str(durand.pk), "kind": "lawyer", "name": "Maître Durand", "email": "durand@avocats.test",
                      "delivery": "link", "link_days": "7", "active": "on"})
    durand.refresh_from_db()
    assert (durand.delivery, durand.link_days) == ("link", 7)
    assert claire.get(url + "?modifier=999999").status_code == 404
    theirs = HandoverRecipient.objects.create(organisation=make_org(slug="autre"), kind="agency", name="Recouvre SA")
    assert claire.get(url + f"?modifier={theirs.pk}").status_code == 404
    assert claire.post(url, {"pk": str(theirs.pk), "kind": "agency", "name": "Pris"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Recouvre SA"

    page = page_of(claire, case)
    assert f'<option value="{durand.pk}">Maître Durand (Avocat) — durand@avocats.test</option>' in page
    page = act(claire, case, "remettre", {"recipient": str(durand.pk), "method": "attachment", "on": "2026-11-23"})
    assert "Dossier confié à la file d’envoi pour Maître Durand" in page
    handover = Handover.objects.get(case=case)
    assert handover.recipient_id == durand.pk and handover.method == "attachment"
    case.refresh_from_db()
    assert case.state == "filed" and case.recipient_id == durand.pk
    assert "Dossier de contentieux remis à son destinataire" in page
    assert reverse("web:reminder", kwargs={"pk": handover.reminder_id}) in page  # the email, in the timeline too
    assert page.count(f'href="{reverse("web:reminder", kwargs={"pk": handover.reminder_id})}"') >= 2
    assert f'data-testid="handover-{handover.pk}"' in page

    page = act(claire, case, "remettre", {"recipient": "", "method": "download", "on": "2026-11-23"})
    assert "Remise du dossier enregistrée" in page and Handover.objects.filter(case=case).count() == 2
    downloaded = Handover.objects.filter(case=case, method="download").get()
    bundle = claire.get(reverse("web:litigation_handover_bundle", kwargs={"pk": case.pk, "handover_pk": downloaded.pk}))
    assert bundle.status_code == 200 and bundle["Content-Type"] == "application/zip"
    assert bundle.content.startswith(b"PK") and f'data-testid="bundle-{downloaded.pk}"' in page
    assert "Choisissez le destinataire du dossier" in act(claire, case, "remettre",
                                                          {"recipient": "", "method": "link", "on": "2026-11-23"})


# --------------------------------------------------------------------------- roles


def test_read_only_members_see_everything_but_cannot_act(client: Client, org: Organisation,
                                                         case: LitigationCase) -> None:
    recipient = HandoverRecipient.objects.create(organisation=org, kind="bailiff", name="SCP Martin")
    client.force_login(make_user("lecteur", org, role=Membership.Role.READ_ONLY))
    page = page_of(client, case)
    assert "FA-2026-0101" in page and "Principal (factures restant dues)" in page
    assert "<form" not in page.split('id="montants"')[1].split("Historique du dossier")[0]
    assert client.get(reverse("web:litigation")).status_code == 200
    listing = client.get(reverse("web:litigation_recipients")).content.decode()
    assert "SCP Martin" in listing and 'data-testid="form-recipient"' not in listing
    assert client.get(reverse("web:litigation_export_csv")).status_code == 200
    for action, data in (("produire", {}), ("juridiction", {"court_kind": "commerce", "court_name": "TC Lyon"}),
                         ("etape", {"target": "request_filed", "on": "2026-11-23"}),
                         ("remettre", {"recipient": str(recipient.pk), "method": "download", "on": "2026-11-23"}),
                         ("document", {"kind": "other", "document": upload()}),
                         ("transmettre", {"handled_by": "Maître Durand", "on": "2026-11-23"}),
                         ("cloturer", {"outcome": "irrecoverable", "on": "2026-11-23"})):
        url = reverse("web:litigation_action", kwargs={"pk": case.pk, "action": action})
        assert client.post(url, data).status_code == 403, action
    assert client.post(reverse("web:litigation_recipients"), {"kind": "lawyer", "name": "X"}).status_code == 403
    case.refresh_from_db()
    assert case.state == "opened" and case.court_name == "" and not CaseDocument.objects.exists()
    assert not Handover.objects.exists() and HandoverRecipient.objects.count() == 1


def test_a_restricted_collector_sees_their_cases_and_no_writeoffs(client: Client, org: Organisation,
                                                                  martin: Customer, case: LitigationCase) -> None:
    org.collectors_see_assigned_only = True
    org.save()
    claire, paul = make_user("claire", org), make_user("paul", org)
    Customer.objects.filter(pk=martin.pk).update(collector=paul)
    client.force_login(claire)
    assert client.get(reverse("web:litigation_case", kwargs={"pk": case.pk})).status_code == 404
    url = reverse("web:litigation_action", kwargs={"pk": case.pk, "action": "produire"})
    assert client.post(url).status_code == 404
    listing = client.get(reverse("web:litigation")).content.decode()
    assert "Boulangerie Martin SARL" not in listing and 'data-testid="writeoffs"' not in listing
    assert client.get(reverse("web:litigation_export_json")).json() == []
    assert client.get(reverse("web:litigation_writeoffs_csv")).status_code == 403
    assert client.get(reverse("web:litigation_writeoffs_fec")).status_code == 403


# --------------------------------------------------------------------------- prescription


def test_invoices_nearing_their_limitation_show_on_the_list_and_the_dashboard(claire: Client, org: Organisation,
                                                                              martin: Customer) -> None:
    # issued on 1 December 2021 between businesses: five years, to 1 December 2026 (in 8 days)
    old = make_invoice(org, martin, "FA-2021-0042", date(2021, 12, 31), "640.00", issued=date(2021, 12, 1))
    make_invoice(org, martin, "FA-2026-0500", date(2026, 10, 1), "90.00")  # far from it
    listing = claire.get(reverse("web:litigation")).content.decode()
    block = listing.split('data-testid="prescription-watch"')[1]
    assert f'data-testid="prescription-{old.pk}"' in block and "FA-2021-0042" in block
    assert "FA-2026-0500" not in block and "Interrompue par" in block
    dashboard = claire.get(reverse("web:dashboard")).content.decode()
    assert 'data-testid="prescription-watch"' in dashboard and "FA-2021-0042" in dashboard
    assert "Balance âgée" in dashboard  # the rest of the dashboard is still there


def test_the_prescription_blocks_cost_no_query_per_invoice(claire: Client, org: Organisation, martin: Customer,
                                                           django_assert_max_num_queries: Any) -> None:
    make_invoice(org, martin, "FA-2021-0001", date(2021, 12, 31), "640.00", issued=date(2021, 12, 1))
    counted = {}
    for name in ("web:dashboard", "web:litigation"):
        with CaptureQueriesContext(connection) as few:
            assert claire.get(reverse(name)).status_code == 200
        counted[name] = len(few.captured_queries)
    for k in range(10):
        customer = make_customer(org, f"P{k:03}", f"Client ancien {k}")
        make_invoice(org, customer, f"FA-2021-1{k:03}", date(2021, 12, 31), "100.00", issued=date(2021, 12, 2 + k))
    for name, n in counted.items():
        with django_assert_max_num_queries(n):
            page = claire.get(reverse(name)).content.decode()
        assert "FA-2021-1000" in page
