"""Messages that speak to a person (issue 17, « Personal messages »): the greeting by title and
name, the letter addressed to the contact and their function, the signature of the collector (else
the organisation's signatory), the other contacts in copy, what was sold, and what a thank-you
says was received."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import formataddr
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail

from relance.channels.addressing import addressee, greeting, signatory_for
from relance.channels.post import customer_party, letter_document
from relance.dunning.models import Reminder
from relance.dunning.services.compose import compose, outgoing_email
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.messages import TEMPLATE_DIR, build_context, render, render_source, sample_context
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import NewEvent
from relance.ledger.models import Allocation, Contact, Customer, Invoice, Membership, Organisation, Payment
from tests.builders import make_customer, make_invoice, make_org, one_planned_reminder

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pinned_clock")]

DAY = date(2026, 11, 23)
NB = "\u00a0"
CLAIRE = formataddr(("Claire Lefèvre", "claire@client.test"))


def contact(civility: str = "Mme", first: str = "Claire", last: str = "Lefèvre", role: str = "Directrice financière",
            email: str = "claire.lefevre@client.test", **fields: Any) -> Contact:
    return Contact(civility=civility, first_name=first, last_name=last, role=role, email=email, **fields)


# --------------------------------------------------------------------------- greetings


@pytest.mark.parametrize(("civility", "first", "last", "email", "letter", "english"), [
    ("Mme", "Claire", "Lefèvre", "Bonjour Madame Lefèvre,", "Madame,", "Dear Ms Lefèvre,"),
    ("Madame", "Claire", "Lefèvre", "Bonjour Madame Lefèvre,", "Madame,", "Dear Ms Lefèvre,"),
    ("Mlle", "Claire", "Lefèvre", "Bonjour Madame Lefèvre,", "Madame,", "Dear Ms Lefèvre,"),
    ("M.", "Paul", "Durand", "Bonjour Monsieur Durand,", "Monsieur,", "Dear Mr Durand,"),
    ("Monsieur", "Paul", "Durand", "Bonjour Monsieur Durand,", "Monsieur,", "Dear Mr Durand,"),
    ("M", "Paul", "Durand", "Bonjour Monsieur Durand,", "Monsieur,", "Dear Mr Durand,"),
    ("", "Claire", "Lefèvre", "Bonjour Claire Lefèvre,", "Madame, Monsieur,", "Dear Claire Lefèvre,"),
    ("", "", "Comptabilité", "Madame, Monsieur,", "Madame, Monsieur,", "Dear Sir or Madam,"),  # a service
    ("Sté", "", "Lefèvre", "Madame, Monsieur,", "Madame, Monsieur,", "Dear Sir or Madam,"),  # not a title
])
def test_the_greeting_of_each_civility(civility: str, first: str, last: str, email: str, letter: str,
                                       english: str) -> None:
    person = contact(civility, first, last)
    assert greeting(person, "fr") == email
    assert greeting(person, "fr", letter=True) == letter
    assert greeting(person, "en") == greeting(person, "en", letter=True) == english


def test_without_a_contact_the_greeting_names_nobody() -> None:
    assert greeting(None, "fr") == greeting(None, "fr", letter=True) == "Madame, Monsieur,"
    assert greeting(None, "en") == "Dear Sir or Madam,"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_shipped_templates_greet_by_channel(language: str) -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS", language=language)
    person = contact()
    invoice = make_invoice(customer, "F-1", "900", date(2026, 10, 31))
    email_context = build_context(org, customer, person, [invoice], DAY)
    letter_context = build_context(org, customer, person, [invoice], DAY, letter=True)
    by_email = render(org, "relance_1", email_context).text
    by_letter = render(org, "relance_1", letter_context).text
    notice_by_email = render(org, "mise_en_demeure", email_context).text
    if language == "fr":
        assert by_email.startswith("Bonjour Madame Lefèvre,\n\n")
        assert by_letter.startswith("Madame,\n\n")
        assert notice_by_email.startswith("Madame,\n\n")  # a formal notice stays formal
        assert notice_by_email.endswith("Nous vous prions d’agréer, Madame, l’expression de nos salutations "
                                        "distinguées.")
    else:
        assert by_email.startswith("Dear Ms Lefèvre,\n\n") and by_letter.startswith("Dear Ms Lefèvre,\n\n")
        assert notice_by_email.endswith("Yours sincerely,")
        anonymous = build_context(org, customer, None, [invoice], DAY)
        assert render(org, "mise_en_demeure", anonymous).text.endswith("Yours faithfully,")


# --------------------------------------------------------------------------- letters


def test_the_letter_is_addressed_to_the_contact_and_their_function() -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS", address1="4 rue Neuve", postal_code="69001",
                             city="Lyon")
    party = customer_party(customer, contact(), "fr")
    assert (party.name, party.attention, party.lines) == (
        "Lefèvre Industrie SAS", "À l’attention de Madame Claire Lefèvre, Directrice financière",
        ("4 rue Neuve", "69001 Lyon"))
    assert customer_party(customer, contact("M.", "Paul", "Durand", role=""), "en").attention == \
        "For the attention of Mr Paul Durand"
    assert customer_party(customer, None, "fr").attention == ""
    consumer = make_customer(org, "C2", "Jean Petit", is_business=False)
    assert customer_party(consumer, contact("M.", "Jean", "Petit", role=""), "fr").name == "Monsieur Jean Petit"
    assert addressee(contact("", "Claire", "Lefèvre"), "fr") == "Claire Lefèvre"


# --------------------------------------------------------------------------- signature


def collector(org: Organisation, customer: Customer, job_title: str = "Chargée de recouvrement") -> User:
    user = User.objects.create_user("julie", first_name="Julie", last_name="Bernard")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR, job_title=job_title)
    Customer.objects.filter(pk=customer.pk).update(collector=user)
    customer.refresh_from_db()
    return user


def email_of(org: Organisation, customer: Customer, invoices: list[Invoice],
             kind: str = Reminder.Kind.REMINDER) -> tuple[Any, str, Reminder]:
    reminder = Reminder.objects.create(organisation=org, customer=customer, kind=kind, channel="email",
                                       planned_for=DAY, idempotency_key=f"k-{Reminder.objects.count()}")
    customer = Customer.objects.prefetch_related("contacts").get(pk=customer.pk)
    events: list[NewEvent] = []
    composed = compose(reminder, org, customer, invoices, DAY, events)
    email, recipient, _test = outgoing_email(org, reminder, customer, composed)
    return email, recipient, reminder


def test_the_collector_signs_with_their_function_else_the_organisation() -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS")
    Contact.objects.create(organisation=org, customer=customer, civility="Mme", first_name="Claire",
                           last_name="Lefèvre", email="claire@client.test", is_billing=True)
    invoice = make_invoice(customer, "F-1", "900", date(2026, 10, 31))

    email, _, _ = email_of(org, customer, [invoice])
    assert email.body.endswith("Bien cordialement,\n\nSophie Laurent\nResponsable comptable\nAtelier Dubois SAS\n"
                               "04 78 00 00 00\n")

    collector(org, customer)
    email, _, _ = email_of(org, Customer.objects.get(pk=customer.pk), [invoice])
    assert email.body.endswith("Bien cordialement,\n\nJulie Bernard\nChargée de recouvrement\nAtelier Dubois SAS\n"
                               "04 78 00 00 00\n")
    assert "Julie Bernard<br>Chargée de recouvrement" in email.alternatives[0][0]
    assert "Sophie Laurent" not in email.body
    context = build_context(org, customer, None, [invoice], DAY)
    assert context["signataire"] == {"nom": "Julie Bernard", "fonction": "Chargée de recouvrement"}

    doc = letter_document(org, customer, None, "Relance", "<p>Madame,</p>", DAY, "REF", registered=False)
    assert (doc.signature_name, doc.signature_title) == ("Julie Bernard", "Chargée de recouvrement")


def test_a_collector_without_a_name_or_no_longer_a_member_does_not_sign() -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS")
    user = collector(org, customer)
    User.objects.filter(pk=user.pk).update(first_name="", last_name="")
    assert signatory_for(org, customer).name == "Sophie Laurent"
    User.objects.filter(pk=user.pk).update(first_name="Julie", last_name="Bernard")
    Membership.objects.filter(user=user).delete()
    assert (signatory_for(org, customer).name, signatory_for(org, customer).title) == (
        "Sophie Laurent", "Responsable comptable")


# --------------------------------------------------------------------------- recipients


def test_the_billing_contact_first_and_the_others_in_copy_when_the_organisation_wants_it() -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS")
    Contact.objects.create(organisation=org, customer=customer, first_name="Paul", last_name="Durand",
                           civility="M.", email="paul@client.test")  # recorded first, not billing
    Contact.objects.create(organisation=org, customer=customer, civility="Mme", first_name="Claire",
                           last_name="Lefèvre", email="claire@client.test", is_billing=True)
    Contact.objects.create(organisation=org, customer=customer, last_name="Bounced", email="old@client.test",
                           email_bounced_at=datetime(2026, 11, 1, tzinfo=UTC))
    Contact.objects.create(organisation=org, customer=customer, last_name="Standard")  # no address
    Contact.objects.create(organisation=org, customer=customer, last_name="Doublon", email="CLAIRE@client.test")
    invoice = make_invoice(customer, "F-1", "900", date(2026, 10, 31))

    email, recipient, _ = email_of(org, customer, [invoice])
    assert email.to == [CLAIRE] and email.cc == []
    assert email.body.startswith("Bonjour Madame Lefèvre,")

    Organisation.objects.filter(pk=org.pk).update(copy_other_contacts=True)
    org.refresh_from_db()
    Reminder.objects.all().delete()
    email, recipient, _ = email_of(org, customer, [invoice])
    assert email.to == [CLAIRE]
    assert email.cc == ["Paul Durand <paul@client.test>"]
    assert email.recipients() == [CLAIRE, "Paul Durand <paul@client.test>"]
    assert recipient == "Claire Lefèvre <claire@client.test>, copie à Paul Durand <paul@client.test>"

    Organisation.objects.filter(pk=org.pk).update(test_mode_email="essais@atelier-dubois.test")
    org.refresh_from_db()
    Reminder.objects.all().delete()
    email, recipient, _ = email_of(org, customer, [invoice])
    assert email.to == ["essais@atelier-dubois.test"] and email.cc == []  # nobody of the customer's in test mode
    assert recipient.startswith("[TEST] essais@atelier-dubois.test au lieu de Claire Lefèvre")


def test_the_copy_is_recorded_on_the_reminder_and_its_sent_event(tmp_path: Any, settings: Any) -> None:
    org, reminder = one_planned_reminder(tmp_path, settings, DAY)
    Organisation.objects.filter(pk=org.pk).update(copy_other_contacts=True)
    Contact.objects.create(organisation=org, customer=reminder.customer, first_name="Marc", last_name="Martin",
                           email="marc.martin@boulangerie-martin.test")
    dispatch_now(org, datetime(2026, 11, 23, 11, tzinfo=UTC))
    [message] = mail.outbox
    assert message.cc == ["Marc Martin <marc.martin@boulangerie-martin.test>"]
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert reminder.recipient.endswith(", copie à Marc Martin <marc.martin@boulangerie-martin.test>")
    sent = Event.objects.get(organisation=org, kind=kinds.REMINDER_SENT, reminder_id_ref=reminder.pk)
    assert sent.data["recipient"] == reminder.recipient


# --------------------------------------------------------------------------- what was sold, how to pay


def test_the_invoice_table_names_what_was_sold_and_the_payment_means() -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS")
    sold = make_invoice(customer, "F-1", "900", date(2026, 10, 31), description="Maintenance annuelle des fours")
    other = make_invoice(customer, "F-2", "100", date(2026, 11, 2))
    message = render(org, "relance_1", build_context(org, customer, contact(), [sold, other], DAY))
    header = message.text.split("\n")[4]
    assert header.split()[:3] == ["Facture", "Objet", "Date"]
    row = next(line for line in message.text.split("\n") if line.startswith("  F-1 "))
    assert row.split()[:5] == ["F-1", "Maintenance", "annuelle", "des", "fours"]
    assert "<th class=\"\">Objet</th>" in message.html and "<td class=\"\">Maintenance annuelle des fours</td>" \
        in message.html
    plain = render(org, "relance_1", build_context(org, customer, contact(), [other], DAY))
    assert "Objet" not in plain.text  # no column when nothing says what was sold
    long = make_invoice(customer, "F-3", "100", date(2026, 11, 2), description="x" * 80)
    assert ("x" * 39 + "…") in render(org, "relance_1", build_context(org, customer, None, [long], DAY)).text
    context = build_context(org, customer, contact(), [sold, other], DAY)
    assert context["reglement"]["texte"] == (f"Règlement par virement à l’ordre d’Atelier Dubois SAS{NB}: IBAN FR76 "
                                             "3000 6000 0112 3456 7890 189 — BIC AGRIFRPP, en rappelant les numéros "
                                             "de facture.")


# --------------------------------------------------------------------------- thank-you


def test_the_thank_you_says_what_was_received() -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS")
    Contact.objects.create(organisation=org, customer=customer, civility="Mme", first_name="Claire",
                           last_name="Lefèvre", email="claire@client.test", is_billing=True)
    invoice = make_invoice(customer, "F-1", "1200", date(2026, 10, 31), description="Maintenance des fours",
                           amount_due=Decimal(0), status=Invoice.Status.PAID)
    payment = Payment.objects.create(organisation=org, customer=customer, reference="VIR-1", date=date(2026, 11, 20),
                                     amount=Decimal("1200"))
    Allocation.objects.create(organisation=org, invoice=invoice, payment=payment, amount=Decimal("1200"),
                              date=date(2026, 11, 20))
    email, _, _ = email_of(org, customer, [invoice], Reminder.Kind.THANKS)
    assert email.subject == "Merci pour votre règlement"
    assert email.body.startswith("Bonjour Madame Lefèvre,\n\nNous avons bien reçu votre règlement de "
                                 f"1\u202f200,00{NB}€ du 20 novembre 2026, et nous vous en remercions.")
    assert (f"La facture suivante est désormais soldée{NB}:\n– n°{NB}F-1 du 01/10/2026 (Maintenance des fours), "
            f"d’un montant de 1\u202f200,00{NB}€") in email.body
    assert "IBAN" not in email.body  # nothing to pay: no payment block

    second = make_invoice(customer, "F-2", "300", date(2026, 11, 5), amount_due=Decimal(0),
                          status=Invoice.Status.PAID)
    later = Payment.objects.create(organisation=org, customer=customer, reference="VIR-2", date=date(2026, 11, 21),
                                   amount=Decimal("300"))
    Allocation.objects.create(organisation=org, invoice=second, payment=later, amount=Decimal("300"),
                              date=date(2026, 11, 21))
    make_invoice(customer, "F-9", "50", date(2026, 11, 1))  # still due
    Reminder.objects.all().delete()
    email, _, _ = email_of(org, customer, [invoice, second], Reminder.Kind.THANKS)
    assert (f"Nous avons bien reçu vos 2 règlements, d’un total de 1\u202f500,00{NB}€ (le dernier le 21 novembre "
            "2026), et nous vous en remercions.") in email.body
    assert f"Pour mémoire, 1 facture (50,00{NB}€) reste à régler sur votre compte{NB};" in email.body


def test_the_thank_you_without_recorded_payments_still_says_the_truth() -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS", language="en")
    Contact.objects.create(organisation=org, customer=customer, last_name="Accounts", email="ap@client.test")
    invoice = make_invoice(customer, "F-1", "1200", date(2026, 10, 31), amount_due=Decimal(0),
                           status=Invoice.Status.PAID)
    email, _, _ = email_of(org, customer, [invoice], Reminder.Kind.THANKS)
    assert email.body.startswith("Dear Sir or Madam,\n\nWe have received your payment. Thank you. The following "
                                 "invoice is now settled:\n– no. F-1 dated 01/10/2026, amount €1,200.00")


# --------------------------------------------------------------------------- a consumer


@pytest.mark.parametrize("key", ["avant_echeance", "relance_1", "relance_2", "relance_3", "courrier",
                                 "mise_en_demeure", "remerciement", "copie_facture"])
def test_a_consumer_is_greeted_by_name_and_never_told_of_business_charges(key: str) -> None:
    context = sample_context("fr")
    context["client"] = {**context["client"], "professionnel": False}
    subject, _, body = (TEMPLATE_DIR / "fr" / f"{key}.txt").read_text(encoding="utf-8").partition("\n")
    message = render_source(subject, body, context, key)
    assert message.text.startswith("Madame,\n" if key == "mise_en_demeure" else "Bonjour Madame Martin,\n")
    assert not any(word in message.text for word in ("L441-10", "D441-5", "40 €", f"40{NB}€", "indemnité"))
    assert "'" not in message.text and " :" not in message.text and " ;" not in message.text


def test_the_email_subject_has_ordinary_spaces_the_rendered_one_french_typography() -> None:
    org = make_org()
    customer = make_customer(org, "C1", "Lefèvre Industrie SAS")
    Contact.objects.create(organisation=org, customer=customer, last_name="Lefèvre", civility="Mme",
                           email="claire@client.test")
    invoice = make_invoice(customer, "F-1", "900", date(2026, 10, 31))
    assert render(org, "relance_1", build_context(org, customer, None, [invoice], DAY)).subject == \
        f"Facture n°{NB}F-1 impayée"
    email, _, _ = email_of(org, customer, [invoice])
    assert email.subject == "Facture n° F-1 impayée"  # a header never wraps (and folds badly on a no-break space)
    doc = letter_document(org, customer, None, f"Facture n°{NB}F-1 impayée", "<p>Madame,</p>", DAY, "REF",
                          registered=False)
    assert doc.subject == f"Objet{NB}: Facture n°{NB}F-1 impayée"
