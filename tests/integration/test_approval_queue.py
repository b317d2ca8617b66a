"""The approval queue at size (issue #5): the cards of a page are read together (no query per
card), each shows the text exactly as it will go out, and the letter preview is rendered once
and served from the cache until something printed on it changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from relance.clock import today_for
from relance.dunning.models import Reminder, Step
from relance.dunning.services import approvals
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.holds.models import Hold
from relance.ledger.models import Customer, Membership, Organisation
from relance.ledger.services.imports import import_file
from relance.ledger.services.payments import record_payment
from tests.builders import invoices_csv, make_org, write

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "Code client;Raison sociale;Type;SIREN;Adresse;Code postal;Ville;Contact;Fonction;Email;Téléphone"
LETTER = 2  # the customer without an email address: its reminder goes by letter
EDITED = 3  # the customer whose wording is edited
HELD_INVOICE = 4  # one of its two invoices is disputed
HELD_CUSTOMER = 5  # the whole customer is on hold: nothing left to send


@pytest.fixture(autouse=True)
def _settings(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def awaiting_org(tmp_path: Any, slug: str, n: int) -> Organisation:
    """``n`` business customers, two overdue invoices each, whose first reminder (written with
    the template that states the penalties) waits for approval."""
    org = make_org(slug)
    today = today_for(org)
    customers = [HEADER] + [
        f"C{k:03d};Client {k} SARL;entreprise;;{k} rue des Lilas;69003;Lyon;Mme Anne Client{k};Gérante;"
        f"{'' if k == LETTER else f'anne{k}@client{k}.test'};" for k in range(1, n + 1)]
    rows = [(f"F-{k}-{j}", f"C{k:03d}", (today - timedelta(days=50 + j)).isoformat(),
             (today - timedelta(days=20 + j)).isoformat(), f"{100 * k + j},50")
            for k in range(1, n + 1) for j in (1, 2)]
    import_file(org, write(tmp_path, f"clients-{slug}.csv", "\n".join(customers) + "\n"))
    import_file(org, write(tmp_path, f"factures-{slug}.csv", invoices_csv(rows)))
    Step.objects.filter(scenario__organisation=org, position=1).update(needs_approval=True, template="relance_2")
    plan_day(org, today)
    assert Reminder.objects.filter(organisation=org, status=Reminder.Status.AWAITING_APPROVAL).count() == n
    return org


def vary(org: Organisation) -> None:
    """An edited wording, a disputed invoice and a customer on hold."""
    today = today_for(org)
    edited = Reminder.objects.get(organisation=org, customer__code=f"C{EDITED:03d}")
    approvals.edit(org, edited.pk, "Relevé de compte", "Madame,\n\nVoici votre relevé.\n\nBien cordialement,",
                   actor="web:alice", today=today)
    held = Customer.objects.get(organisation=org, code=f"C{HELD_INVOICE:03d}")
    Hold.objects.create(organisation=org, customer=held, invoice=held.invoices.get(number=f"F-{HELD_INVOICE}-1"),
                        kind=Hold.Kind.DISPUTE, reason="livraison incomplète")
    Hold.objects.create(organisation=org, customer=Customer.objects.get(organisation=org, code=f"C{HELD_CUSTOMER:03d}"),
                        kind=Hold.Kind.DISPUTE, reason="litige global")


def member(org: Organisation, username: str) -> Client:
    user = User.objects.create_user(username, password="motdepasse-solide-123")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.COLLECTOR)
    client = Client()
    client.force_login(user)
    return client


def queries(client: Client, url: str, cards: int) -> int:
    client.get(url)  # sessions, caches: as on a second visit
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="approval-card"') == cards
    return len(captured)


def test_the_query_count_of_the_queue_does_not_grow_with_its_cards(tmp_path: Any) -> None:
    one = member(awaiting_org(tmp_path, "une", 1), "alice")
    many_org = awaiting_org(tmp_path, "douze", 12)
    vary(many_org)
    many = member(many_org, "bob")
    url = reverse("web:approvals")
    counts = [queries(one, url, 1), queries(many, url, 10), queries(many, url + "?page=2", 2)]
    assert counts[0] == counts[1] == counts[2], counts


def test_each_card_shows_the_text_exactly_as_it_will_go_out(tmp_path: Any) -> None:
    org = awaiting_org(tmp_path, "atelier", 6)
    vary(org)
    today = today_for(org)
    reminders = list(approvals.queue(org))
    shown = approvals.queue_previews(org, reminders, today)
    for reminder, card in zip(reminders, shown, strict=True):
        full = approvals.preview(org, reminder, today)  # the review page: the email as built
        assert (card.channel, card.subject, card.text, card.recipient, card.problem, card.dropped, card.edited,
                card.n_invoices, card.total) == (full.channel, full.subject, full.text, full.recipient, full.problem,
                                                 full.dropped, full.edited, full.n_invoices, full.total)
        assert card.html == ""  # no email built, no QR code rendered
    by_code = {r.customer.code: card for r, card in zip(reminders, shown, strict=True)}
    assert by_code[f"C{LETTER:03d}"].is_letter and "69003" in by_code[f"C{LETTER:03d}"].recipient
    assert by_code[f"C{EDITED:03d}"].text.startswith("Madame,\n\nVoici votre relevé.")
    assert by_code[f"C{HELD_INVOICE:03d}"].dropped == [f"F-{HELD_INVOICE}-1"]
    assert (by_code["C001"].n_invoices, by_code["C001"].total) == (2, Decimal("204.00"))  # 101,50 + 102,50
    assert by_code[f"C{HELD_CUSTOMER:03d}"].problem and not by_code[f"C{HELD_CUSTOMER:03d}"].text
    assert "L441-10" in by_code["C001"].text  # the template that states the penalties (or the law, rate missing)

    # what goes out is what the queue showed
    email_cards = {code: card for code, card in by_code.items() if card.text and not card.is_letter}
    approvals.approve(org, [r.pk for r in reminders if r.customer.code in email_cards], actor="web:alice", today=today)
    dispatch_now(org, datetime(today.year, today.month, today.day, 11, tzinfo=UTC))
    sent = {m.to[0]: m for m in mail.outbox}
    assert len(sent) == len(email_cards)
    for card in email_cards.values():
        message = next(m for m in sent.values() if m.to[0] in card.recipient)
        assert (message.subject, message.body) == (card.subject, card.text)


def test_the_queue_page_shows_the_text_and_test_mode(tmp_path: Any) -> None:
    org = awaiting_org(tmp_path, "atelier", 2)
    Organisation.objects.filter(pk=org.pk).update(test_mode_email="essais@atelier-dubois.test")
    org.refresh_from_db()
    page = member(org, "alice").get(reverse("web:approvals")).content.decode()
    cards = approvals.queue_previews(org, list(approvals.queue(org)))
    assert len(cards) == 2
    for card in cards:
        assert escape(card.text) in page and escape(card.subject) in page
        if not card.is_letter:
            assert card.subject.startswith("[TEST] ") and card.test_mode
            assert card.recipient.startswith("[TEST] essais@atelier-dubois.test au lieu de ")
    assert "data:image/png;base64," not in page
    assert "2 factures · 204,00\xa0€" in page  # C001, as planned


# --------------------------------------------------------------------------- the letter preview


def letter(tmp_path: Any) -> tuple[Organisation, Reminder, date]:
    org = awaiting_org(tmp_path, "atelier", LETTER)
    reminder = Reminder.objects.select_related("customer", "step").get(
        organisation=org, customer__code=f"C{LETTER:03d}")
    return org, reminder, today_for(org)


def test_the_letter_preview_is_rendered_once_then_served_from_the_cache(tmp_path: Any) -> None:
    cache.clear()
    org, reminder, today = letter(tmp_path)
    client = member(org, "alice")
    url = reverse("web:approval_pdf", kwargs={"pk": reminder.pk})
    first = client.get(url)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    key = approvals.preview_cache_key(reminder, approvals.letter_preview_document(org, reminder, today))
    assert cache.get(key) == first.content
    cache.set(key, b"%PDF-from-the-cache", 60)  # what the second request serves comes from the cache
    assert client.get(url).content == b"%PDF-from-the-cache"
    reminder.refresh_from_db()
    assert not reminder.document  # still nothing stored


def test_an_edit_or_a_payment_gives_a_fresh_letter_preview(tmp_path: Any) -> None:
    cache.clear()
    org, reminder, today = letter(tmp_path)
    keys = [approvals.preview_cache_key(reminder, approvals.letter_preview_document(org, reminder, today))]
    cache.set(keys[0], b"%PDF-stale", 60)
    assert approvals.letter_preview(org, reminder, today) == b"%PDF-stale"

    approvals.edit(org, reminder.pk, "Relevé de compte", "Madame,\n\nVoici votre relevé.", actor="web:alice",
                   today=today)
    reminder.refresh_from_db()
    keys.append(approvals.preview_cache_key(reminder, approvals.letter_preview_document(org, reminder, today)))
    cache.set(keys[1], b"%PDF-stale", 60)
    record_payment(org, reminder.customer, "VIR-1", today, Decimal("201.50"), designated=[f"F-{LETTER}-1"])
    # a wording quoting amounts that changed is sent back for review; its template is used again
    approvals.revert(org, reminder.pk, actor="web:alice")
    reminder.refresh_from_db()
    doc = approvals.letter_preview_document(org, reminder, today)
    keys.append(approvals.preview_cache_key(reminder, doc))
    assert len(set(keys)) == 3
    fresh = approvals.letter_preview(org, reminder, today)
    assert fresh.startswith(b"%PDF-1.") and cache.get(keys[2]) == fresh
    assert f"F-{LETTER}-1" not in doc.body_html and f"F-{LETTER}-2" in doc.body_html
    assert "Voici votre relevé" not in doc.body_html


def test_a_change_of_wording_alone_changes_the_key(tmp_path: Any) -> None:
    org, reminder, today = letter(tmp_path)
    before = approvals.preview_cache_key(reminder, approvals.letter_preview_document(org, reminder, today))
    approvals.edit(org, reminder.pk, "Relevé de compte", "Madame,\n\nVoici votre relevé.", actor="web:alice",
                   today=today)
    reminder.refresh_from_db()
    doc = approvals.letter_preview_document(org, reminder, today)
    assert "Voici votre relevé" in doc.body_html
    assert approvals.preview_cache_key(reminder, doc) != before
    assert approvals.letter_preview(org, reminder, today).startswith(b"%PDF-1.")


def test_a_letter_of_an_incomplete_organisation_says_why_it_would_be_refused(tmp_path: Any) -> None:
    org, reminder, today = letter(tmp_path)
    assert not approvals.preview(org, reminder, today).problem
    Organisation.objects.filter(pk=org.pk).update(signature_name="")
    org.refresh_from_db()
    problem = approvals.preview(org, reminder, today).problem
    assert "courrier refusé" in problem and "signataire" in problem
