"""Holds on the database: promises, disputes, pauses and stops pause exactly the right
invoices, the sequence resumes as it should, and the dispatcher re-checks at send time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from relance.dunning.models import Reminder
from relance.dunning.services.dispatcher import dispatch_now
from relance.dunning.services.planner import plan_day
from relance.errors import Conflict, InvalidInput
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.holds.models import DisputeReason, Hold, Promise
from relance.holds.services.holds import (
    cancel_promise,
    credit_dispute,
    dispute_reasons,
    lift,
    open_dispute,
    pause,
    record_promise,
    resolve_dispute,
    stop,
    write_off_dispute,
)
from relance.ledger.models import Customer, Invoice, Membership, Organisation
from relance.ledger.services.payments import record_payment
from tests.builders import org_with_three_invoices

pytestmark = pytest.mark.django_db(transaction=True)

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
NNBSP, NBSP = "\u202f", "\xa0"


@pytest.fixture(autouse=True)
def _locmem(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)


def run(org: Organisation, day: date) -> list[Reminder]:
    plan_day(org, day)
    report = dispatch_now(org, noon(day))
    return list(Reminder.objects.filter(pk__in=report.sent))


def run_days(org: Organisation, first: date, last: date) -> list[Reminder]:
    sent: list[Reminder] = []
    day = first
    while day <= last:
        sent += run(org, day)
        day += timedelta(days=1)
    return sent


def numbers(reminder: Reminder) -> list[str]:
    return sorted(reminder.lines.values_list("invoice__number", flat=True))


def kinds(org: Organisation) -> list[str]:
    return list(Event.objects.filter(organisation=org).order_by("seq").values_list("kind", flat=True))


@pytest.fixture
def org(tmp_path: Any) -> Organisation:
    org = org_with_three_invoices(tmp_path)
    return org


@pytest.fixture
def c001(org: Organisation) -> Customer:
    return Customer.objects.get(organisation=org, code="C001")


def inv(number: str) -> Invoice:
    return Invoice.objects.get(number=number)


DAY = date(2026, 11, 19)  # Thursday: F-001 at J+40, F-002 at J+19, F-003 at J+5


# ------------------------------------------------------------------------------------------ promises


def test_promise_pauses_exactly_the_invoices_it_covers(org: Organisation, c001: Customer) -> None:
    promise = record_promise(org, c001, date(2026, 11, 27), Decimal("1200.00"), via="phone",
                             obtained_by="Sophie Laurent", invoices=["F-001"], actor="sophie", today=DAY)
    assert promise.grace_until == date(2026, 12, 2)  # Friday 27 + 3 business days
    assert list(Hold.objects.filter(promise=promise).values_list("invoice__number", "kind", "state")) == [
        ("F-001", "promise", "active")]
    sent = run(org, DAY)
    mine = [r for r in sent if r.customer_id == c001.pk]
    assert len(mine) == 1 and numbers(mine[0]) == ["F-002"]
    assert "F-001" not in mail.outbox[0].body
    event = Event.objects.get(organisation=org, kind="promise.recorded")
    assert event.actor == "sophie" and event.data["invoices"] == ["F-001"] and event.data["amount"] == "1200.00"
    assert event.data["promised_on"] == "2026-11-27" and event.data["via"] == "phone"


def test_broken_promise_resumes_with_a_message_quoting_it(org: Organisation, c001: Customer) -> None:
    promise = record_promise(org, c001, date(2026, 11, 20), Decimal("1680.50"), via="phone",
                             obtained_by="Sophie Laurent", actor="sophie", today=DAY)
    assert sorted(Hold.objects.filter(promise=promise).values_list("invoice__number", flat=True)) == ["F-001", "F-002"]
    sent = run_days(org, DAY, date(2026, 11, 25))  # promised Friday 20, grace until Wednesday 25
    assert not [r for r in sent if r.customer_id == c001.pk]
    assert [r.customer.code for r in sent] == ["C002"]  # the other customer is chased as usual

    sent = run(org, date(2026, 11, 26))
    promise.refresh_from_db()
    assert promise.state == Promise.State.BROKEN and promise.closed_on == date(2026, 11, 26)
    assert not Hold.objects.filter(promise=promise, state=Hold.State.ACTIVE).exists()
    (broken,) = [r for r in sent if r.customer_id == c001.pk]
    assert broken.kind == Reminder.Kind.PROMISE_BROKEN and numbers(broken) == ["F-001", "F-002"]
    assert broken.subject == "Promesse de règlement non tenue : factures n° F-001 et F-002"
    assert ("Le 19 novembre 2026, par téléphone, vous avez pris l’engagement auprès de Sophie Laurent de nous régler "
            f"1{NNBSP}680,50{NBSP}€ au plus tard le 20 novembre 2026.") in broken.body_text
    assert "ce règlement ne nous est pas parvenu." in broken.body_text
    event = Event.objects.get(organisation=org, kind="promise.broken")
    assert event.data["promise"] == promise.pk and event.data["received"] == "0.00"

    # the normal sequence resumes after the minimum gap, from where it was; never twice the broken message
    later = run_days(org, date(2026, 11, 27), date(2026, 12, 2))
    mine = [r for r in later if r.customer_id == c001.pk]
    assert [(r.kind, r.planned_for) for r in mine] == [("reminder", date(2026, 12, 1))]
    assert Reminder.objects.filter(kind=Reminder.Kind.PROMISE_BROKEN).count() == 1
    assert not verify_chain(org)


def test_promise_kept_on_settlement(org: Organisation, c001: Customer) -> None:
    promise = record_promise(org, c001, date(2026, 11, 27), Decimal("1680.50"), via="email", obtained_by="Paul",
                             today=DAY)
    record_payment(org, c001, "VIR-1", date(2026, 11, 24), Decimal("1680.50"))
    promise.refresh_from_db()
    assert promise.state == Promise.State.KEPT
    assert kinds(org)[-1] == "promise.kept" or "promise.kept" in kinds(org)
    run_days(org, date(2026, 11, 24), date(2026, 12, 10))
    assert not Reminder.objects.filter(customer=c001, kind__in=["reminder", "promise_broken"]).exists()


def test_partial_promise_kept_in_the_daily_run_then_the_rest_is_chased(org: Organisation, c001: Customer) -> None:
    promise = record_promise(org, c001, date(2026, 11, 27), Decimal("500.00"), via="letter", obtained_by="Paul",
                             invoices=["F-001"], today=DAY)
    record_payment(org, c001, "VIR-2", date(2026, 11, 23), Decimal("500.00"), designated=["F-001"])
    promise.refresh_from_db()
    assert promise.state == Promise.State.ACTIVE  # not settled: the daily run decides
    first = run(org, date(2026, 11, 23))
    promise.refresh_from_db()
    assert promise.state == Promise.State.KEPT
    event = Event.objects.get(organisation=org, kind="promise.kept")
    assert event.data["received"] == "500.00"
    # kept does not forgive the rest: F-001's remaining 700 € is chased again
    sent = [r for r in first + run_days(org, date(2026, 11, 24), date(2026, 11, 30)) if r.customer_id == c001.pk]
    assert any("F-001" in numbers(r) for r in sent)


def test_a_promise_in_the_past_is_refused_and_nothing_is_saved(org: Organisation, c001: Customer) -> None:
    events = Event.objects.count()
    with pytest.raises(InvalidInput) as caught:
        record_promise(org, c001, date(2026, 11, 18), Decimal("100"), via="phone", obtained_by="Sophie", today=DAY)
    assert caught.value.message.startswith("La date promise (18 novembre 2026) est déjà passée")
    with pytest.raises(InvalidInput):
        record_promise(org, c001, date(2026, 12, 1), Decimal("5000"), via="phone", obtained_by="Sophie", today=DAY)
    with pytest.raises(InvalidInput):
        record_promise(org, c001, date(2026, 12, 1), Decimal("100"), via="pigeon", obtained_by="Sophie", today=DAY)
    assert not Promise.objects.exists() and not Hold.objects.exists() and Event.objects.count() == events


def test_a_new_promise_replaces_the_previous_one(org: Organisation, c001: Customer) -> None:
    first = record_promise(org, c001, date(2026, 11, 27), Decimal("1680.50"), via="phone", obtained_by="A", today=DAY)
    second = record_promise(org, c001, date(2026, 12, 4), Decimal("1680.50"), via="phone", obtained_by="A",
                            today=date(2026, 11, 26))
    first.refresh_from_db()
    assert first.state == Promise.State.CANCELLED
    assert Hold.objects.filter(state=Hold.State.ACTIVE).count() == 2
    assert set(Hold.objects.filter(state=Hold.State.ACTIVE).values_list("promise_id", flat=True)) == {second.pk}
    event = Event.objects.get(organisation=org, kind="promise.cancelled")
    assert event.data == {**event.data, "reason": "replaced", "replaced_by": second.pk}
    cancel_promise(org, second, actor="sophie", today=date(2026, 11, 27))
    with pytest.raises(Conflict) as caught:
        cancel_promise(org, second, actor="sophie")
    assert "« annulée » est un état final" in caught.value.message


# ------------------------------------------------------------------------------------------ disputes


def test_dispute_excludes_only_the_disputed_invoice_and_resolution_resumes(org: Organisation, c001: Customer) -> None:
    hold = open_dispute(org, inv("F-001"), "montant_conteste", note=XSS, attachment=("../../bon de livraison.pdf",
                                                                                      b"%PDF-1.4 test"),
                        actor="sophie", today=DAY)
    assert hold.note == XSS  # stored verbatim
    assert hold.reason == "Montant contesté" and hold.dispute_reason is not None
    assert hold.attachment.name.startswith("holds/atelier/2026-11-19-bon_de_livraison") and ".." not in hold.attachment.name
    (first,) = [r for r in run(org, DAY) if r.customer_id == c001.pk]
    assert numbers(first) == ["F-002"]
    event = Event.objects.get(organisation=org, kind="dispute.opened")
    assert event.invoice_id_ref == inv("F-001").pk and event.data["note"] == XSS and event.data["reason"] == \
        "montant_conteste"
    with pytest.raises(Conflict):
        open_dispute(org, inv("F-001"), "non_recu", today=DAY)

    resolve_dispute(org, hold, actor="sophie", note="erreur de saisie du client", today=date(2026, 11, 23))
    hold.refresh_from_db()
    assert hold.state == Hold.State.RESOLVED and hold.ended_by == "sophie"
    later = [r for r in run_days(org, date(2026, 11, 23), date(2026, 11, 25)) if r.customer_id == c001.pk]
    assert later and "F-001" in numbers(later[0])
    with pytest.raises(Conflict):
        resolve_dispute(org, hold, actor="sophie")
    with pytest.raises(InvalidInput):
        lift(org, hold, actor="sophie")  # a dispute is resolved, not lifted


def test_dispute_closed_by_a_credit_note(org: Organisation, c001: Customer) -> None:
    hold = open_dispute(org, inv("F-001"), "prestation_contestee", today=DAY)
    with pytest.raises(InvalidInput):
        credit_dispute(org, hold, number="AV-0", amount=Decimal("1200.01"), on=DAY, actor="sophie")
    credit_dispute(org, hold, number="AV-1", amount=Decimal("200.00"), on=DAY, actor="sophie")
    hold.refresh_from_db()
    invoice = inv("F-001")
    assert hold.state == Hold.State.CREDITED and invoice.amount_due == Decimal("1000.00")
    assert invoice.status == Invoice.Status.OPEN
    event = Event.objects.get(organisation=org, kind="dispute.credited")
    assert event.data["credit_note"] == "AV-1" and event.data["amount_due"] == "1000.00"
    assert "credit_note.recorded" in kinds(org)
    # what the credit note leaves due is chased again
    mine = [r for r in run(org, DAY) if r.customer_id == c001.pk]
    assert numbers(mine[0]) == ["F-001", "F-002"]

    full = open_dispute(org, inv("F-002"), "deja_paye", today=DAY)
    credit_dispute(org, full, number="AV-2", on=DAY, actor="sophie")  # the whole amount due by default
    assert inv("F-002").status == Invoice.Status.CREDITED


def test_written_off_invoice_is_never_chased_again(org: Organisation, c001: Customer) -> None:
    hold = open_dispute(org, inv("F-001"), "autre", note="client disparu", today=DAY)
    write_off_dispute(org, hold, actor="sophie", note="montant trop faible pour une procédure", today=DAY)
    invoice = inv("F-001")
    assert invoice.dunning_state == Invoice.Dunning.DONE and invoice.status == Invoice.Status.OPEN
    assert Event.objects.get(organisation=org, kind="invoice.written_off").data["amount_due"] == "1200.00"
    sent = run_days(org, DAY, DAY + timedelta(days=70))
    assert not any("F-001" in numbers(r) for r in sent)
    assert any("F-002" in numbers(r) for r in sent)


def test_dispute_reasons_are_a_configurable_list(org: Organisation) -> None:
    assert [r.label for r in dispute_reasons(org)] == [
        "Non reçu", "Montant contesté", "Marchandise ou prestation contestée", "Déjà payé", "Autre"]
    DisputeReason.objects.filter(organisation=org, code="deja_paye").update(is_active=False)
    DisputeReason.objects.create(organisation=org, code="qualite", label="Défaut de qualité", position=9)
    assert "Défaut de qualité" in [r.label for r in dispute_reasons(org)]
    with pytest.raises(InvalidInput) as caught:
        open_dispute(org, inv("F-001"), "deja_paye", today=DAY)
    assert "motif de litige inconnu" in caught.value.message
    open_dispute(org, inv("F-001"), "qualite", today=DAY)


# ------------------------------------------------------------------------------------------ pauses and stops


def test_pause_of_one_invoice_expires_with_an_event(org: Organisation, c001: Customer) -> None:
    with pytest.raises(InvalidInput):
        pause(org, c001, date(2026, 11, 18), reason="congés", today=DAY)
    with pytest.raises(InvalidInput):
        pause(org, c001, date(2026, 11, 30), reason=" ", today=DAY)
    hold = pause(org, c001, date(2026, 11, 24), reason="attente du bon de commande", invoice=inv("F-002"), today=DAY)
    (first,) = [r for r in run(org, DAY) if r.customer_id == c001.pk]
    assert numbers(first) == ["F-001"]
    # after the minimum gap: F-001 waits for its scenario's own gap (J+15 − J+7), F-002 is still paused
    assert [r for r in run(org, date(2026, 11, 24)) if r.customer_id == c001.pk] == []
    hold.refresh_from_db()
    assert hold.state == Hold.State.ACTIVE
    sent = [r for r in run_days(org, date(2026, 11, 25), date(2026, 12, 2)) if r.customer_id == c001.pk]
    hold.refresh_from_db()
    assert hold.state == Hold.State.EXPIRED and hold.ended_on == date(2026, 11, 25) and "pause.expired" in kinds(org)
    assert sent and "F-002" in numbers(sent[0])


def test_stop_of_a_customer_until_lifted(org: Organisation, c001: Customer) -> None:
    with pytest.raises(InvalidInput):
        stop(org, c001, "bankruptcy")
    hold = stop(org, c001, Hold.StopCause.INSOLVENCY, reason="redressement judiciaire, jugement du 12/11/2026",
                actor="sophie")
    assert hold.reason == "Procédure collective — redressement judiciaire, jugement du 12/11/2026"
    with pytest.raises(Conflict):
        stop(org, c001, Hold.StopCause.LITIGATION)
    sent = run_days(org, DAY, date(2026, 12, 31))
    assert not [r for r in sent if r.customer_id == c001.pk]
    assert [r for r in sent if r.customer.code == "C002"]
    lift(org, hold, actor="sophie", note="plan de continuation", today=date(2027, 1, 4))
    assert [r for r in run(org, date(2027, 1, 4)) if r.customer_id == c001.pk]
    assert [k for k in kinds(org) if k.startswith("stop.")] == ["stop.started", "stop.lifted"]


# ------------------------------------------------------------------------------------------ send-time re-check


def test_dispatcher_cancels_when_a_promise_comes_after_planning(org: Organisation, c001: Customer) -> None:
    plan_day(org, DAY)
    reminder = Reminder.objects.get(customer=c001)
    record_promise(org, c001, date(2026, 11, 27), Decimal("1680.50"), via="phone", obtained_by="Sophie", today=DAY)
    dispatch_now(org, noon(DAY))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    event = Event.objects.get(organisation=org, kind="reminder.cancelled", reminder_id_ref=reminder.pk)
    assert event.data["invoices"] == ["F-001", "F-002"]
    assert not [m for m in mail.outbox if "F-001" in m.subject]


def test_dispatcher_drops_an_invoice_disputed_after_planning(org: Organisation, c001: Customer) -> None:
    plan_day(org, DAY)
    open_dispute(org, inv("F-002"), "non_recu", today=DAY)
    dispatch_now(org, noon(DAY))
    reminder = Reminder.objects.get(customer=c001)
    assert reminder.status == Reminder.Status.SENT and numbers(reminder) == ["F-001"]
    assert "F-002" not in reminder.body_text


def test_dispatcher_cancels_when_the_customer_is_stopped_after_planning(org: Organisation, c001: Customer) -> None:
    plan_day(org, DAY)
    stop(org, c001, Hold.StopCause.LITIGATION, reason="dossier chez l’avocat")
    dispatch_now(org, noon(DAY))
    assert Reminder.objects.get(customer=c001).status == Reminder.Status.CANCELLED


# ------------------------------------------------------------------------------------------ rendering


def test_free_text_is_stored_verbatim_and_escaped_when_shown(org: Organisation, c001: Customer) -> None:
    hold = pause(org, c001, date(2026, 12, 31), reason=XSS, today=DAY)
    assert Hold.objects.get(pk=hold.pk).note == XSS
    user = User.objects.create_user("sophie", password="motdepasse-solide-123")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(user)
    page = client.get(reverse("web:customer", args=[c001.pk])).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page

    # a promise obtained by someone whose name is a payload: the email's HTML escapes it, the text keeps it
    lift(org, hold, actor="sophie", today=DAY)
    record_promise(org, c001, date(2026, 11, 20), Decimal("100.00"), via="portal", obtained_by=XSS, today=DAY)
    run_days(org, date(2026, 11, 26), date(2026, 11, 26))
    broken = Reminder.objects.get(kind=Reminder.Kind.PROMISE_BROKEN)
    assert XSS in broken.body_text
    assert "<script>" not in broken.body_html and "&lt;script&gt;" in broken.body_html
    assert "sur le portail client" in broken.body_text


# ------------------------------------------------------------------------------------------ shipped wording

NEW_KEYS = ["promesse_non_tenue", "echeance_a_venir", "echeance_impayee", "accord_echeancier"]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("key", NEW_KEYS)
def test_new_shipped_templates_render(key: str, language: str) -> None:
    from relance.dunning.services.messages import TEMPLATE_DIR, render_source, sample_context
    from relance.holds.services.wording import sample_hold_variables

    subject, _, body = (TEMPLATE_DIR / language / f"{key}.txt").read_text(encoding="utf-8").partition("\n")
    message = render_source(subject, body, {**sample_context(language), **sample_hold_variables(language)}, key)
    assert message.subject and "{{" not in message.text and "{%" not in message.text
    assert "\n\n\n" not in message.text and "'" not in message.text  # typographic apostrophes only
    if language == "fr":
        assert "’" in message.text
    if key == "echeance_a_venir":
        assert ("1. 15/12/2026\xa0: 493,50\xa0€ (réglée)\n2. 15/01/2027\xa0: 493,50\xa0€" if language == "fr"
                else "1. 15/12/2026: €493.50 (paid)\n2. 15/01/2027: €493.50") in message.text
