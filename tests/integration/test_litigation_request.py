"""The injonction de payer request (C. proc. civ. 1405 to 1425) and the small-claims file (CPCE
L125-1) of a litigation case (litigation.court_documents): every mention of art. 1407 and 57 in
the PDF, the amounts those of the claim to the cent, the court of art. 1406, the mentions still
unknown reported and printed « à compléter », nothing of business-only law for a consumer, and
no small-claims file above 5 000 €."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfReader

from relance import clock
from relance.core.formatting import long_date, money
from relance.dunning.models import Reminder, ReminderLine
from relance.errors import InvalidInput
from relance.ledger.models import Customer, Invoice, Organisation
from relance.litigation.claim import Piece, claim_for
from relance.litigation.court_documents import (
    TO_COMPLETE,
    CourtDocument,
    build_request,
    build_small_claim,
    small_claim_allowed,
)
from relance.litigation.models import HandoverRecipient, LitigationCase
from relance.litigation.services import open_cases
from relance.rates.services import add_rate
from tests.builders import make_customer, make_org

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% mise en demeure\n%%EOF\n"
_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _world(db: None, settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    # the shipped tables stop before 2026-S2: hypothetical rates for it (the charges need them)
    add_rate("2026-S2", individual="6,50", other="2,50", ecb="2,40", source="hypothèse de test")
    with clock.frozen(NOON):
        yield


# --------------------------------------------------------------------------- builders


def invoice(customer: Customer, number: str, due: date, amount: str, **fields: Any) -> Invoice:
    return Invoice.objects.create(organisation=customer.organisation, customer=customer, number=number,
                                  issue_date=due - timedelta(days=30), due_date=due, amount_incl_tax=Decimal(amount),
                                  amount_due=Decimal(fields.pop("amount_due", amount)), last_step_position=5,
                                  next_action_date=DAY, **fields)


def notice(customer: Customer, invoices: list[Invoice], sent_on: date, received_on: date,
           tracking: str = "1A12345678901") -> Reminder:
    """A formal notice by registered letter, sent, with its PDF and its avis de réception."""
    org = customer.organisation
    reminder = Reminder.objects.create(
        organisation=org, customer=customer, channel="registered_letter", planned_for=sent_on,
        status=Reminder.Status.SENT, idempotency_key=f"request-{next(_keys)}", subject="Mise en demeure de payer",
        sent_at=datetime(sent_on.year, sent_on.month, sent_on.day, 9, 30, tzinfo=UTC), tracking_number=tracking,
        received_on=received_on)
    reminder.document.save(f"{org.slug}/mise-en-demeure-{reminder.pk}.pdf", ContentFile(PDF), save=False)
    reminder.document_sha256 = hashlib.sha256(PDF).hexdigest()
    reminder.save(update_fields=["document", "document_sha256"])
    ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=4,
                                                   amount_due=i.amount_due) for i in invoices])
    return reminder


def case_of(customer: Customer, invoices: list[Invoice], **court: str) -> LitigationCase:
    (case,) = open_cases(customer.organisation, DAY, {customer.pk: [i.pk for i in invoices]},
                         step_label="Transmission au contentieux")
    if court:
        LitigationCase.objects.filter(pk=case.pk).update(**court)
        case.refresh_from_db()
    return case


PIECES = [Piece(1, "Relevé de compte au 23 novembre 2026", "statement", DAY),
          Piece(2, "Facture FA-2026-0101", "invoice", date(2026, 8, 2)),
          Piece(3, "Mise en demeure du 12 octobre 2026 et son avis de réception", "formal_notice", date(2026, 10, 12))]


def text_of(document: CourtDocument) -> str:
    """The PDF's text, spaces (narrow, no-break) and line breaks made single spaces."""
    assert document.pdf.startswith(b"%PDF")
    raw = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document.pdf)).pages)
    return flat(raw)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def martin(org: Organisation) -> Customer:
    return make_customer(org, "C001", "Boulangerie Martin", legal_form="SARL au capital de 8 000 €", siren="732829320",
                         address1="12 rue des Lilas", postal_code="69003", city="Lyon")


@pytest.fixture
def business_case(martin: Customer) -> LitigationCase:
    invoices = [invoice(martin, "FA-2026-0101", date(2026, 9, 1), "1200.00"),
                invoice(martin, "FA-2026-0107", date(2026, 9, 8), "480.50", amount_due="230.50")]
    notice(martin, invoices, date(2026, 10, 12), date(2026, 10, 14))
    return case_of(martin, invoices, court_kind="commerce", court_name="Tribunal des activités économiques de Lyon",
                   court_address="44 rue de Bonnel\n69003 Lyon")


@pytest.fixture
def petit(org: Organisation) -> Customer:
    return make_customer(org, "C003", "Jean Petit", is_business=False, address1="8 impasse des Roses",
                         postal_code="69100", city="Villeurbanne")


@pytest.fixture
def consumer_case(petit: Customer) -> LitigationCase:
    bill = invoice(petit, "FA-2026-0150", date(2026, 8, 31), "860.00", formal_notice_on=date(2026, 9, 15))
    notice(petit, [bill], date(2026, 9, 15), date(2026, 9, 17), tracking="1A00000000777")
    return case_of(petit, [bill])


def assert_amounts_are_the_claims(text: str, org: Organisation, case: LitigationCase) -> None:
    claim = claim_for(org, case, DAY)
    for label, amount, basis in claim.elements():
        assert flat(label) in text and flat(money(amount)) in text and flat(basis) in text
    assert f"Montant réclamé : {flat(money(claim.total))}, arrêté au {long_date(DAY)}" in text
    for line in claim.lines:
        assert line.invoice.number in text and flat(money(line.principal)) in text and flat(money(line.total)) in text


# --------------------------------------------------------------------------- the request


def test_a_business_request_carries_every_mention_in_the_forms_order(org: Organisation,
                                                                    business_case: LitigationCase) -> None:
    document = build_request(org, business_case, DAY, PIECES)

    assert document.title == "Requête en injonction de payer — Boulangerie Martin"
    assert document.missing == []
    text = text_of(document)
    # 1. the court, as recorded on the case: a commercial court between two companies (art. 1406)
    assert "Tribunal des activités économiques de Lyon" in text and "44 rue de Bonnel, 69003 Lyon" in text
    assert "Nature tribunal des activités économiques" in text and "au président" in text
    assert "Créance de nature contractuelle" in text  # the basis of the claim (art. 1407)
    # 2. the creditor: form, name, registered office, SIREN, represented by
    for mention in ("Atelier Dubois SAS", "SAS au capital de 10 000 €", "5 place Bellecour, 69002 Lyon", "552 100 554",
                    "Représentée par Sophie Laurent, Responsable comptable"):
        assert mention in text, mention
    # 3. the debtor: name, form, registered office, SIREN
    for mention in ("Boulangerie Martin", "SARL au capital de 8 000 €", "12 rue des Lilas, 69003 Lyon", "732 829 320"):
        assert mention in text, mention
    # 4. the amount and its breakdown, exactly the claim's; 5. the basis
    assert_amounts_are_the_claims(text, org, business_case)
    claim = claim_for(org, business_case, DAY)
    assert claim.penalties > 0 and claim.indemnity == Decimal("80.00")
    assert "art. L441-10 II du Code de commerce" in text and "D441-5" in text
    assert ("mise en demeure par lettre recommandée avec demande d’avis de réception du 12 octobre 2026 "
            "(n° 1A12345678901), reçue le 14 octobre 2026 (factures FA-2026-0101, FA-2026-0107)") in text
    # 6. the request to the judge, 7. the bordereau, 8. place, date, signature
    assert f"enjoignant à Boulangerie Martin de lui payer la somme de {flat(money(claim.total))}" in text
    for piece in PIECES:
        assert f"Pièce n° {piece.number} : {piece.title}" in text
    assert "Fait à Lyon, le 23 novembre 2026." in text and "Signature" in text
    assert "Cerfa n° 12946" in text and "dans le même ordre" in text
    assert TO_COMPLETE not in text
    # the sections in the order of the form
    positions = [text.index(title) for title in ("1. Juridiction saisie", "2. Créancier", "3. Débiteur",
                                                 "4. Montant de la créance", "5. Fondement", "6. Demande",
                                                 "7. Bordereau des pièces", "8. Date et signature")]
    assert positions == sorted(positions)


def test_a_consumer_request_goes_to_the_tribunal_judiciaire_without_business_law(
        org: Organisation, consumer_case: LitigationCase) -> None:
    document = build_request(org, consumer_case, DAY, PIECES[:1])

    text = text_of(document)
    assert "Nature tribunal judiciaire" in text and "au juge" in text
    # the court was not recorded: its kind comes from art. 1406, its name and address are to be completed
    assert document.missing == [
        "Juridiction : nom du tribunal du domicile du débiteur non renseigné (C. proc. civ. art. 1406).",
        "Juridiction : adresse du greffe non renseignée.",
    ]
    assert document.warnings[0].startswith("Juridiction non choisie sur le dossier : le débiteur est un particulier")
    assert text.count(TO_COMPLETE) >= 2
    # a person: name and domicile
    assert "Nom et prénoms Jean Petit" in text and "8 impasse des Roses, 69100 Villeurbanne" in text
    assert_amounts_are_the_claims(text, org, consumer_case)
    claim = claim_for(org, consumer_case, DAY)
    assert claim.interest > 0 and "Intérêts de retard" in text and "1231-6" in text
    assert "du 16 septembre 2026 au 23 novembre 2026" in text  # the interest runs from the formal notice
    for business_only in ("L441", "D441", "40 €", "40,00 €", "Indemnité forfaitaire", "indemnité forfaitaire",
                          "Pénalités de retard", "Indemnité et frais"):
        assert business_only not in text, business_only


def test_a_consumer_is_never_sent_before_the_tribunal_de_commerce(org: Organisation,
                                                                  consumer_case: LitigationCase) -> None:
    LitigationCase.objects.filter(pk=consumer_case.pk).update(court_kind="commerce",
                                                               court_name="Tribunal de commerce de Lyon")
    consumer_case.refresh_from_db()

    document = build_request(org, consumer_case, DAY, PIECES)

    text = text_of(document)
    assert "Nature tribunal judiciaire" in text and "Tribunal de commerce de Lyon" not in text
    assert document.missing[0].startswith("Un particulier ne relève pas du tribunal de commerce")


def test_missing_mentions_are_reported_and_left_to_complete(org: Organisation) -> None:
    Organisation.objects.filter(pk=org.pk).update(signature_name="", signature_title="", siren="")
    org.refresh_from_db()
    garage = make_customer(org, "C002", "Garage du Centre", address1="3 avenue Jean Jaurès", postal_code="69007",
                           city="Lyon")
    bill = invoice(garage, "FA-2026-0120", date(2026, 9, 15), "2400.00")
    case = case_of(garage, [bill], court_kind="commerce")

    document = build_request(org, case, DAY, [])

    assert document.missing == [
        "Juridiction : nom du tribunal du domicile du débiteur non renseigné (C. proc. civ. art. 1406).",
        "Juridiction : adresse du greffe non renseignée.",
        "Créancier : numéro SIREN inconnu.",
        "Créancier : représentant légal (signataire) non renseigné (C. proc. civ. art. 54 3° b).",
        "Débiteur : forme juridique inconnue.",
        "Débiteur : numéro SIREN inconnu.",
        "Bordereau des pièces : aucune pièce n’est jointe (C. proc. civ. art. 1407).",
    ]
    text = text_of(document)
    assert "Forme juridique à compléter" in text and "SIREN à compléter" in text
    assert "Représentée par à compléter" in text and "à compléter : aucune pièce n’est jointe" in text
    assert_amounts_are_the_claims(text, org, case)


def test_the_request_warns_of_a_renamed_court(
        org: Organisation, business_case: LitigationCase) -> None:
    LitigationCase.objects.filter(pk=business_case.pk).update(court_name="Tribunal de commerce de Lyon")
    business_case.refresh_from_db()

    document = build_request(org, business_case, DAY, PIECES)

    assert document.missing == []
    assert any("tribunal des activités économiques de Lyon" in w for w in document.warnings)


def test_nothing_owed_is_refused(org: Organisation, business_case: LitigationCase) -> None:
    Invoice.objects.filter(litigation_lines__case=business_case).update(amount_due=Decimal(0), status="paid")
    with pytest.raises(InvalidInput, match="aucune somme due"):
        build_request(org, business_case, DAY, PIECES)


# --------------------------------------------------------------------------- small claims


def test_the_small_claims_file_for_a_commissaire_de_justice(org: Organisation, business_case: LitigationCase) -> None:
    claim = claim_for(org, business_case, DAY)
    assert small_claim_allowed(claim)

    document = build_small_claim(org, business_case, DAY, PIECES)

    assert document.title == "Procédure simplifiée de recouvrement des petites créances — Boulangerie Martin"
    assert document.missing == ["Commissaire de justice : aucun n’est désigné comme destinataire du dossier."]
    text = text_of(document)
    assert "L125-1" in text and "Boulangerie Martin" in text and "Atelier Dubois SAS" in text
    assert "Créance de nature contractuelle" in text
    assert_amounts_are_the_claims(text, org, business_case)
    counted = flat(money(claim.principal + claim.penalties))
    assert f"Montant en principal et intérêts : {counted}, dans la limite de 5 000,00 €" in text
    for piece in PIECES:
        assert f"Pièce n° {piece.number} : {piece.title}" in text
    assert "frais de toute nature de la procédure sont à la charge exclusive du créancier" in text
    assert "dispose d’un mois" in text and "réputé avoir refusé" in text
    assert "suspend la prescription" in text and "titre exécutoire" in text
    assert "Fait à Lyon, le 23 novembre 2026." in text

    bailiff = HandoverRecipient.objects.create(organisation=org, kind=HandoverRecipient.Kind.BAILIFF,
                                               name="SCP Huissiers Réunis", address="2 quai Saint-Antoine\n69002 Lyon",
                                               reference="M-2026-17")
    LitigationCase.objects.filter(pk=business_case.pk).update(recipient=bailiff)
    business_case.refresh_from_db()
    document = build_small_claim(org, business_case, DAY, PIECES)
    assert document.missing == []
    text = text_of(document)
    assert "SCP Huissiers Réunis" in text and "2 quai Saint-Antoine, 69002 Lyon" in text and "M-2026-17" in text


def test_a_consumer_small_claim_names_no_business_law(org: Organisation, consumer_case: LitigationCase) -> None:
    document = build_small_claim(org, consumer_case, DAY, PIECES)
    text = text_of(document)
    assert_amounts_are_the_claims(text, org, consumer_case)
    assert "Jean Petit" in text and "Intérêts de retard" in text
    for business_only in ("L441", "D441", "40 €", "40,00 €", "ndemnité forfaitaire", "Pénalités de retard"):
        assert business_only not in text, business_only
    # a person creditor's birth and nationality are a court request's, not this file's
    assert "Nationalité" not in text


def test_no_small_claims_file_above_5000_euros(org: Organisation, martin: Customer) -> None:
    # 4 990 € of principal: its penalties take principal and interest above 5 000 €
    bill = invoice(martin, "FA-2026-0300", date(2026, 6, 30), "4990.00")
    case = case_of(martin, [bill])
    claim = claim_for(org, case, DAY)
    assert claim.principal + claim.penalties > Decimal("5000") and not small_claim_allowed(claim)

    with pytest.raises(InvalidInput, match=f"dépasse le plafond de {money(Decimal(5000))}") as refused:
        build_small_claim(org, case, DAY, PIECES)
    assert "injonction de payer" in refused.value.message
    build_request(org, case, DAY, PIECES)  # the request has no limit


def test_the_40_euro_indemnity_does_not_count_towards_the_limit(org: Organisation, martin: Customer) -> None:
    # principal 4 990 €, due a day before: a few euros of penalties, plus the 40 € indemnity
    bill = invoice(martin, "FA-2026-0301", DAY - timedelta(days=2), "4990.00")
    case = case_of(martin, [bill])
    claim = claim_for(org, case, DAY)
    assert claim.principal + claim.penalties <= Decimal("5000") < claim.total
    assert small_claim_allowed(claim)
    assert build_small_claim(org, case, DAY, PIECES).pdf.startswith(b"%PDF")


def test_a_consumer_under_a_penalty_clause_still_hears_of_no_business_law(org: Organisation,
                                                                         consumer_case: LitigationCase) -> None:
    Organisation.objects.filter(pk=org.pk).update(consumer_penalty_rate=Decimal("8.00"))
    org.refresh_from_db()
    document = build_request(org, consumer_case, DAY, PIECES)
    text = text_of(document)
    assert "art. 1231-5 du Code civil (clause pénale du contrat)" in text
    assert_amounts_are_the_claims(text, org, consumer_case)
    for business_only in ("L441", "D441", "40 €", "ndemnité forfaitaire"):
        assert business_only not in text, business_only


def test_an_individual_entrepreneur_creditor_and_a_debtor_abroad() -> None:
    org = make_org("durand", legal_name="Paul Durand", legal_form="Entrepreneur individuel", siren="443121975")
    client = make_customer(org, "B001", "Bäckerei Schmidt GmbH", legal_form="GmbH", siret="73282932000074",
                           address1="Hauptstraße 1", postal_code="10115", city="Berlin", country="DE")
    bill = invoice(client, "PD-2026-001", date(2026, 9, 1), "900.00")
    case = case_of(client, [bill])

    document = build_request(org, case, DAY, PIECES)

    text = text_of(document)
    assert "Profession à compléter" in text and "Nationalité à compléter" in text
    assert "Date et lieu de naissance à compléter" in text
    assert "732 829 320" in text  # the SIREN read from the SIRET
    assert ("Créancier (personne physique) : profession, nationalité, date et lieu de naissance à compléter "
            "(C. proc. civ. art. 54 3° a).") in document.missing
    assert document.warnings[0].startswith("Le débiteur est domicilié hors de France")
    # neither party's form says whether it is a merchant: the court is the user's choice
    assert "Juridiction : choisissez le tribunal compétent" in document.missing[0]
    assert "Hauptstraße 1, 10115 Berlin, DE" in text
