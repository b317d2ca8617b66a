"""Litigation cases (issue #10, invariant 8): the planner's hand-over opens a real case — its
invoices, what they owed, the formal notice of each with its proof of delivery — once per
customer and day, never twice for an invoice; the case is then handed over and closed, each
transition evented; the « Contentieux » pages (no query per row, roles, collectors' scope) and
``relance litigation --json``."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relance import clock
from relance.cli.main import main
from relance.dunning.models import Reminder, ReminderLine, Scenario, Step
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events.models import Event
from relance.events.services import verify_chain
from relance.ledger.models import Customer, Invoice, Membership, Organisation
from relance.litigation import queries
from relance.litigation.models import CaseInvoice, LitigationCase
from relance.litigation.services import close_case, file_case, formal_notices, open_cases
from tests.builders import make_customer, make_org, make_user

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 23)  # a Monday: the planner hands over today
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% mise en demeure\n%%EOF\n"
TRACKING = "1A12345678901"
HANDOVER = "Transmission au contentieux"

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _world(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Files in a temporary folder, fast passwords, and the services' clock at ``NOON``."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with clock.frozen(NOON):
        yield


# --------------------------------------------------------------------------- builders


def make_invoice(org: Organisation, customer: Customer, number: str, due: date, amount: str,
                 due_amount: str | None = None) -> Invoice:
    return Invoice.objects.create(organisation=org, customer=customer, number=number, issue_date=due - timedelta(days=30),
                                  due_date=due, amount_incl_tax=Decimal(amount),
                                  amount_due=Decimal(due_amount if due_amount is not None else amount),
                                  last_step_position=5, next_action_date=DAY)


def make_letter(org: Organisation, customer: Customer, invoices: list[Invoice], sent_on: date, *,
                tracking: str = TRACKING, received_on: date | None = None, status: str = Reminder.Status.SENT,
                channel: str = "registered_letter", with_pdf: bool = True) -> Reminder:
    """A formal notice by registered letter (sent, with its PDF, tracking number and receipt)."""
    reminder = Reminder.objects.create(
        organisation=org, customer=customer, channel=channel, planned_for=sent_on, status=status,
        idempotency_key=f"test-{next(_keys)}", subject="Mise en demeure de payer",
        sent_at=datetime(sent_on.year, sent_on.month, sent_on.day, 9, 30, tzinfo=UTC) if status == "sent" else None,
        tracking_number=tracking, received_on=received_on)
    if with_pdf:
        reminder.document.save(f"{org.slug}/mise-en-demeure-{reminder.pk}.pdf", ContentFile(PDF), save=False)
        reminder.document_sha256 = hashlib.sha256(PDF).hexdigest()
        reminder.save(update_fields=["document", "document_sha256"])
    ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=4, amount_due=i.amount_due)
                                      for i in invoices])
    return reminder


def events(org: Organisation, prefix: str = "litigation.") -> list[Event]:
    return list(Event.objects.filter(organisation=org, kind__startswith=prefix).order_by("seq"))


@pytest.fixture
def org() -> Organisation:
    return make_org()


@pytest.fixture
def martin(org: Organisation) -> Customer:
    return make_customer(org, "C001", "Boulangerie Martin SARL", siren="732829320")


@pytest.fixture
def invoices(org: Organisation, martin: Customer) -> list[Invoice]:
    return [make_invoice(org, martin, "FA-2026-0101", date(2026, 9, 1), "1200.00"),
            make_invoice(org, martin, "FA-2026-0107", date(2026, 9, 8), "480.50", "230.50")]


@pytest.fixture
def notices(org: Organisation, martin: Customer, invoices: list[Invoice]) -> tuple[Reminder, Reminder]:
    """A first formal notice about both invoices, a second one (later) about the first only."""
    first = make_letter(org, martin, invoices, date(2026, 10, 12), tracking="1A00000000001", received_on=date(2026, 10, 14))
    second = make_letter(org, martin, invoices[:1], date(2026, 10, 26), received_on=date(2026, 10, 28))
    return first, second


def opened(org: Organisation, customer: Customer, invoices: list[Invoice], day: date = DAY) -> LitigationCase:
    (case,) = open_cases(org, day, {customer.pk: [i.pk for i in invoices]}, step_label=HANDOVER)
    return case


# --------------------------------------------------------------------------- opening


def test_a_handover_opens_a_case_with_the_formal_notices_and_their_proof(
        org: Organisation, martin: Customer, invoices: list[Invoice], notices: tuple[Reminder, Reminder]) -> None:
    first, second = notices
    fa1, fa2 = invoices
    # neither a failed registered letter nor a later email counts as the formal notice
    make_letter(org, martin, [fa1], date(2026, 11, 2), status=Reminder.Status.FAILED, with_pdf=False)
    make_letter(org, martin, [fa1, fa2], date(2026, 11, 9), channel="email", with_pdf=False)

    cases = open_cases(org, DAY, {martin.pk: [fa2.pk, fa1.pk]}, step_label=HANDOVER)

    assert len(cases) == 1
    case = LitigationCase.objects.get()
    assert (case.organisation_id, case.customer_id, case.state, case.opened_on) == (org.pk, martin.pk, "opened", DAY)
    assert case.created_by == "system" and case.filed_on is None and case.closed_on is None and case.outcome == ""
    lines = {line.invoice.number: line for line in CaseInvoice.objects.filter(case=case).select_related("invoice")}
    assert lines["FA-2026-0101"].amount_due_at_opening == Decimal("1200.00")
    assert lines["FA-2026-0107"].amount_due_at_opening == Decimal("230.50")
    assert lines["FA-2026-0101"].formal_notice_id == second.pk  # the latest one sent about it
    assert lines["FA-2026-0107"].formal_notice_id == first.pk
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.dunning_state == Invoice.Dunning.LITIGATION and invoice.next_action_date is None
    (event,) = events(org)
    assert event.kind == "litigation.opened" and event.customer_id_ref == martin.pk and event.actor == "system"
    data = event.data
    assert data["case"] == case.pk and data["opened_on"] == "2026-11-23" and data["step"] == HANDOVER
    assert data["numbers"] == ["FA-2026-0101", "FA-2026-0107"] and data["total_due"] == "1430.50"
    assert data["without_formal_notice"] == []
    assert data["invoices"][0] == {
        "invoice": fa1.pk, "number": "FA-2026-0101", "due_date": "2026-09-01", "amount_due": "1200.00",
        "currency": "EUR", "formal_notice": {
            "reminder": second.pk, "sent_on": "2026-10-26", "tracking_number": TRACKING, "received_on": "2026-10-28",
            "document": second.document.name, "document_sha256": hashlib.sha256(PDF).hexdigest()}}
    assert data["invoices"][1]["formal_notice"]["reminder"] == first.pk
    assert data["invoices"][1]["formal_notice"]["tracking_number"] == "1A00000000001"
    assert not verify_chain(org)
    # the handover is a case, never a reminder marked « Envoyée »
    assert not Reminder.objects.filter(kind=Reminder.Kind.LITIGATION).exists()


def test_opening_is_idempotent_and_an_invoice_is_never_in_two_live_cases(
        org: Organisation, martin: Customer, invoices: list[Invoice], notices: tuple[Reminder, Reminder]) -> None:
    fa1, fa2 = invoices
    case = opened(org, martin, [fa1])
    assert open_cases(org, DAY, {martin.pk: [fa1.pk]}, step_label=HANDOVER) == []  # the same day, again
    assert LitigationCase.objects.count() == 1 and CaseInvoice.objects.count() == 1 and len(events(org)) == 1

    # the same day, another invoice of the customer joins that day's case
    assert open_cases(org, DAY, {martin.pk: [fa1.pk, fa2.pk]}) == [case]
    assert LitigationCase.objects.count() == 1
    assert sorted(case.lines.values_list("invoice__number", flat=True)) == ["FA-2026-0101", "FA-2026-0107"]
    added = events(org)[-1]
    assert added.kind == "litigation.invoices_added" and added.data["case"] == case.pk
    assert added.data["numbers"] == ["FA-2026-0107"]

    # later days: still in an open case, then in a filed one — never in a second case
    assert open_cases(org, DAY + timedelta(days=1), {martin.pk: [fa1.pk, fa2.pk]}) == []
    file_case(org, case, actor="sophie", on=DAY, handled_by="Maître Durand")
    assert open_cases(org, DAY + timedelta(days=2), {martin.pk: [fa1.pk]}) == []
    assert LitigationCase.objects.count() == 1 and CaseInvoice.objects.count() == 2
    assert [e.kind for e in events(org)] == ["litigation.opened", "litigation.invoices_added", "litigation.filed"]

    # once the case is closed, the invoice may be handed over again (a new case)
    close_case(org, case, outcome="settled", actor="sophie", on=DAY)
    with clock.frozen(NOON + timedelta(days=7)):
        again = opened(org, martin, [fa1], DAY + timedelta(days=7))
    assert again.pk != case.pk and list(again.lines.values_list("invoice_id", flat=True)) == [fa1.pk]


def test_one_case_per_customer_each_with_its_own_event(org: Organisation, martin: Customer,
                                                       invoices: list[Invoice]) -> None:
    garage = make_customer(org, "C002", "Garage du Centre")
    g1 = make_invoice(org, garage, "FA-2026-0200", date(2026, 9, 15), "2400.00")
    cases = open_cases(org, DAY, {garage.pk: [g1.pk], martin.pk: [i.pk for i in invoices]})
    assert [c.customer_id for c in cases] == sorted([martin.pk, garage.pk])
    assert [(e.customer_id_ref, e.data["numbers"]) for e in events(org)] == sorted(
        [(martin.pk, ["FA-2026-0101", "FA-2026-0107"]), (garage.pk, ["FA-2026-0200"])])


def test_without_a_formal_notice_the_case_says_so(org: Organisation, martin: Customer, invoices: list[Invoice]) -> None:
    case = opened(org, martin, invoices)
    assert set(case.lines.values_list("formal_notice", flat=True)) == {None}
    data = events(org)[0].data
    assert data["without_formal_notice"] == ["FA-2026-0101", "FA-2026-0107"]
    assert data["invoices"][0]["formal_notice"] is None


def test_a_formal_notice_is_found_whatever_its_channel_and_a_plain_letter_is_not(
        org: Organisation, martin: Customer, invoices: list[Invoice]) -> None:
    """One predicate for « formal notice » (``formal_notice_q``), the escalation rules' own: a step
    written with the formal notice's template counts even when sent by simple letter; a plain letter
    does not."""
    plain = make_letter(org, martin, invoices[:1], date(2026, 10, 5), channel="letter")
    scenario = Scenario.objects.create(organisation=org, name="Lettre simple")
    step = Step.objects.create(scenario=scenario, position=0, offset_days=60, channel="letter", tone=5,
                               template="mise_en_demeure")
    by_letter = make_letter(org, martin, invoices[1:], date(2026, 10, 12), channel="letter")
    by_letter.step = step
    by_letter.save(update_fields=["step"])
    found = formal_notices(org, [i.pk for i in invoices])
    assert found == {invoices[1].pk: by_letter}
    assert plain.pk not in {r.pk for r in found.values()}


def test_settled_invoices_are_left_out_and_strays_refused(org: Organisation, martin: Customer,
                                                          invoices: list[Invoice]) -> None:
    fa1, fa2 = invoices
    Invoice.objects.filter(pk=fa2.pk).update(status=Invoice.Status.PAID, amount_due=0)
    case = opened(org, martin, [fa1, fa2])
    assert list(case.lines.values_list("invoice__number", flat=True)) == ["FA-2026-0101"]
    fa2.refresh_from_db()
    assert fa2.dunning_state == Invoice.Dunning.ACTIVE
    assert open_cases(org, DAY, {martin.pk: []}) == [] and open_cases(org, DAY, {}) == []

    other = make_org(slug="autre")
    foreign = make_invoice(other, make_customer(other, "X1", "Ailleurs SA"), "FX-1", date(2026, 9, 1), "100.00")
    garage = make_customer(org, "C002", "Garage du Centre")
    before = (LitigationCase.objects.count(), Event.objects.count())
    with pytest.raises(InvalidInput):
        open_cases(org, DAY, {garage.pk: [make_invoice(org, garage, "FA-9", date(2026, 9, 1), "10.00").pk],
                              martin.pk: [foreign.pk]})
    with pytest.raises(InvalidInput):
        open_cases(org, DAY, {garage.pk: [fa1.pk]})  # another customer's invoice
    assert (LitigationCase.objects.count(), Event.objects.count()) == before


# --------------------------------------------------------------------------- filing and closing


def test_filed_then_closed_each_with_its_event(org: Organisation, martin: Customer, invoices: list[Invoice],
                                               notices: tuple[Reminder, Reminder]) -> None:
    case = opened(org, martin, invoices)
    filed = file_case(org, case.pk, actor="web:sophie", on=DAY, handled_by="  SCP Martin, commissaires de justice ",
                      note="Dossier complet envoyé par courriel.")
    assert (filed.state, filed.filed_on, filed.handled_by) == ("filed", DAY, "SCP Martin, commissaires de justice")
    assert filed.note == "Dossier complet envoyé par courriel."
    closed = close_case(org, case, outcome="judgment", actor="web:sophie", on=DAY, note="Injonction de payer obtenue.")
    assert (closed.state, closed.closed_on, closed.outcome) == ("closed", DAY, "judgment")
    assert closed.note == "Dossier complet envoyé par courriel.\n\nInjonction de payer obtenue."
    for invoice in invoices:  # a judgment leaves the invoices as they are
        invoice.refresh_from_db()
        assert invoice.dunning_state == Invoice.Dunning.LITIGATION
    kinds = [(e.kind, e.actor, e.customer_id_ref) for e in events(org)]
    assert kinds == [("litigation.opened", "system", martin.pk), ("litigation.filed", "web:sophie", martin.pk),
                     ("litigation.closed", "web:sophie", martin.pk)]
    filed_event, closed_event = events(org)[1:]
    assert filed_event.data == {"case": case.pk, "filed_on": "2026-11-23",
                                "handled_by": "SCP Martin, commissaires de justice",
                                "note": "Dossier complet envoyé par courriel."}
    assert closed_event.data == {"case": case.pk, "closed_on": "2026-11-23", "outcome": "judgment",
                                 "note": "Injonction de payer obtenue.", "abandoned_invoices": []}
    assert not verify_chain(org)


def test_forbidden_transitions_and_bad_input_change_nothing(org: Organisation, martin: Customer,
                                                            invoices: list[Invoice]) -> None:
    case = opened(org, martin, invoices, DAY - timedelta(days=7))
    count = Event.objects.count()
    with pytest.raises(InvalidInput, match="à qui le dossier est transmis"):
        file_case(org, case, actor="sophie", on=DAY, handled_by=" ")
    with pytest.raises(InvalidInput, match="précède l’ouverture"):
        file_case(org, case, actor="sophie", on=DAY - timedelta(days=8), handled_by="Maître Durand")
    with pytest.raises(InvalidInput, match="dans le futur"):
        file_case(org, case, actor="sophie", on=DAY + timedelta(days=1), handled_by="Maître Durand")
    with pytest.raises(InvalidInput, match="Issue inconnue"):
        close_case(org, case, outcome="won", actor="sophie", on=DAY)
    with pytest.raises(InvalidInput, match="précisez-la dans la note"):
        close_case(org, case, outcome="other", actor="sophie", on=DAY)
    with pytest.raises(NotFound):
        file_case(make_org(slug="autre"), case, actor="sophie", on=DAY, handled_by="Maître Durand")
    with pytest.raises(NotFound):
        close_case(org, case.pk + 1000, outcome="paid", actor="sophie", on=DAY)
    case.refresh_from_db()
    assert case.state == "opened" and Event.objects.count() == count

    file_case(org, case, actor="sophie", on=DAY - timedelta(days=2), handled_by="Maître Durand")
    with pytest.raises(Conflict, match="« transmis » → « transmis »"):
        file_case(org, case, actor="sophie", on=DAY, handled_by="Maître Dupont")
    with pytest.raises(InvalidInput, match="précède la transmission"):
        close_case(org, case, outcome="paid", actor="sophie", on=DAY - timedelta(days=3))
    close_case(org, case, outcome="paid", actor="sophie", on=DAY)
    with pytest.raises(Conflict, match="« clôturé » est un état final"):
        close_case(org, case, outcome="paid", actor="sophie", on=DAY)
    with pytest.raises(Conflict):
        file_case(org, case, actor="sophie", on=DAY, handled_by="Maître Dupont")
    case.refresh_from_db()
    assert (case.state, case.handled_by, case.outcome) == ("closed", "Maître Durand", "paid")
    assert [e.kind for e in events(org)][-2:] == ["litigation.filed", "litigation.closed"]


def test_closing_an_opened_case_as_abandoned_ends_the_chase_of_its_open_invoices(
        org: Organisation, martin: Customer, invoices: list[Invoice]) -> None:
    fa1, fa2 = invoices
    case = opened(org, martin, invoices)
    Invoice.objects.filter(pk=fa2.pk).update(status=Invoice.Status.PAID, amount_due=0)  # paid since
    close_case(org, case, outcome="abandoned", actor="sophie", on=DAY, note="Société radiée.")
    fa1.refresh_from_db()
    fa2.refresh_from_db()
    assert fa1.dunning_state == Invoice.Dunning.DONE and fa1.next_action_date is None
    assert fa2.dunning_state == Invoice.Dunning.LITIGATION  # settled through the ledger: left as it is
    (closed,) = [e for e in events(org) if e.kind == "litigation.closed"]
    assert closed.data["abandoned_invoices"] == [{"invoice": fa1.pk, "number": "FA-2026-0101", "amount_due": "1200.00"}]


# --------------------------------------------------------------------------- queries


def test_the_list_puts_open_cases_first_with_totals_and_proof(org: Organisation, martin: Customer,
                                                              invoices: list[Invoice],
                                                              notices: tuple[Reminder, Reminder]) -> None:
    garage = make_customer(org, "C002", "Garage du Centre")
    boucherie = make_customer(org, "C003", "Boucherie Petit")
    closed = opened(org, garage, [make_invoice(org, garage, "FA-2026-0200", date(2026, 9, 15), "2400.00")],
                    DAY - timedelta(days=20))
    close_case(org, closed, outcome="paid", actor="sophie", on=DAY)
    filed = opened(org, boucherie, [make_invoice(org, boucherie, "FA-2026-0300", date(2026, 9, 20), "99.90")],
                   DAY - timedelta(days=10))
    file_case(org, filed, actor="sophie", on=DAY, handled_by="Maître Durand")
    case = opened(org, martin, invoices, DAY - timedelta(days=1))
    Invoice.objects.filter(number="FA-2026-0107").update(amount_due=Decimal("30.50"))  # a partial payment since

    rows = queries.rows(org, queries.cases(org))
    assert [r.case.pk for r in rows] == [case.pk, filed.pk, closed.pk]
    row = rows[0]
    assert row.numbers == ["FA-2026-0101", "FA-2026-0107"]
    assert row.total_at_opening == Decimal("1430.50") and row.total_due_now == Decimal("1230.50")
    assert [(n.sent_on, n.tracking_number, n.received_on, n.numbers) for n in row.notices] == [
        (date(2026, 10, 12), "1A00000000001", date(2026, 10, 14), ["FA-2026-0107"]),
        (date(2026, 10, 26), TRACKING, date(2026, 10, 28), ["FA-2026-0101"])]
    assert row.without_notice == [] and rows[1].without_notice == ["FA-2026-0300"]
    assert [r.case.pk for r in queries.rows(org, queries.cases(org, "filed"))] == [filed.pk]
    assert queries.state_counts(org) == {"opened": 1, "filed": 1, "request_filed": 0, "order_issued": 0,
                                         "served": 0, "closed": 1}
    with pytest.raises(InvalidInput):
        queries.cases(org, "perdu")
    with pytest.raises(NotFound):
        queries.case_for(make_org(slug="autre"), case.pk)


# --------------------------------------------------------------------------- web


def _many_cases(org: Organisation, n: int) -> None:
    for k in range(n):
        customer = make_customer(org, f"M{k:03}", f"Client {k}")
        invoice = make_invoice(org, customer, f"FM-{k:03}", date(2026, 9, 1), "100.00")
        make_letter(org, customer, [invoice], date(2026, 10, 12), received_on=date(2026, 10, 14))
        case = opened(org, customer, [invoice], DAY - timedelta(days=k % 5))
        if k % 3 == 1:
            file_case(org, case, actor="sophie", on=DAY, handled_by="Maître Durand")
        elif k % 3 == 2:
            close_case(org, case, outcome="paid", actor="sophie", on=DAY)


def test_the_list_page_has_no_query_per_row(client: Client, org: Organisation,
                                            django_assert_max_num_queries: Any) -> None:
    client.force_login(make_user("claire", org))
    _many_cases(org, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("web:litigation")).status_code == 200
    for k in range(12):
        customer = make_customer(org, f"N{k:03}", f"Autre client {k}")
        invoices = [make_invoice(org, customer, f"FN-{k:03}-{j}", date(2026, 9, 1), "10.00") for j in range(3)]
        make_letter(org, customer, invoices, date(2026, 10, 12))
        opened(org, customer, invoices)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("web:litigation"))
    text = page.content.decode()
    assert text.count('data-testid="case-') == 14 and "FN-011-2" in text


def test_the_case_page_has_no_query_per_invoice(client: Client, org: Organisation, martin: Customer,
                                                django_assert_max_num_queries: Any) -> None:
    client.force_login(make_user("claire", org))
    small = opened(org, martin, [make_invoice(org, martin, "FS-1", date(2026, 9, 1), "10.00")])
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("web:litigation_case", kwargs={"pk": small.pk})).status_code == 200
    garage = make_customer(org, "C002", "Garage du Centre")
    many = [make_invoice(org, garage, f"FG-{k}", date(2026, 9, 1), "10.00") for k in range(12)]
    for k in range(4):
        make_letter(org, garage, many[3 * k:3 * k + 3], date(2026, 10, 12 + k), received_on=date(2026, 10, 20))
    big = opened(org, garage, many)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("web:litigation_case", kwargs={"pk": big.pk})).content.decode()
    assert page.count("Mise en demeure du ") == 4 and "FG-11" in page


def test_the_pages_show_the_case_and_its_proof(client: Client, org: Organisation, martin: Customer,
                                               invoices: list[Invoice], notices: tuple[Reminder, Reminder]) -> None:
    first, second = notices
    client.force_login(make_user("claire", org))
    case = opened(org, martin, invoices)
    listing = client.get(reverse("web:litigation")).content.decode()
    assert 'href="/contentieux/"' in listing and ">Contentieux<" in listing  # the main navigation
    assert "Boulangerie Martin SARL" in listing
    assert '<span class="nowrap">FA-2026-0101</span>, <span class="nowrap">FA-2026-0107</span>' in listing
    assert "1\u202f430,50\xa0€" in listing and "LRAR 1A12345678901" in listing and "AR du 28 octobre 2026" in listing
    assert "Envoyée" not in listing

    page = client.get(reverse("web:litigation_case", kwargs={"pk": case.pk})).content.decode()
    assert f"Dossier n° {case.pk} — Boulangerie Martin SARL" in page
    assert reverse("web:reminder", kwargs={"pk": second.pk}) in page
    assert reverse("web:reminder", kwargs={"pk": first.pk}) in page
    assert reverse("web:reminder_pdf", kwargs={"pk": second.pk}) in page
    assert hashlib.sha256(PDF).hexdigest() in page and "reçu le 28 octobre 2026" in page
    assert "Passage au contentieux" in page  # the timeline
    assert 'data-testid="form-file"' in page and 'data-testid="form-close"' in page
    assert "csrfmiddlewaretoken" in page

    url = reverse("web:litigation_action", kwargs={"pk": case.pk, "action": "transmettre"})
    response = client.post(url, {"handled_by": "Maître Durand, avocat", "on": "2026-11-23", "note": "<b>x</b>"},
                           follow=True)
    assert "Dossier marqué comme transmis à Maître Durand, avocat." in response.content.decode()
    case.refresh_from_db()
    assert case.state == "filed" and case.handled_by == "Maître Durand, avocat"
    page = client.get(reverse("web:litigation_case", kwargs={"pk": case.pk})).content.decode()
    assert "Dossier de contentieux transmis" in page and "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert 'data-testid="form-file"' not in page

    url = reverse("web:litigation_action", kwargs={"pk": case.pk, "action": "cloturer"})
    response = client.post(url, {"outcome": "other", "on": "2026-11-23"}, follow=True)
    assert "Issue « Autre » : précisez-la dans la note." in response.content.decode()
    client.post(url, {"outcome": "abandoned", "on": "2026-11-23", "note": "Société radiée"})
    case.refresh_from_db()
    assert case.state == "closed" and case.outcome == "abandoned"
    page = client.get(reverse("web:litigation_case", kwargs={"pk": case.pk})).content.decode()
    assert "Abandonné" in page and "Dossier de contentieux clôturé" in page and 'data-testid="form-close"' not in page
    assert client.get(reverse("web:litigation") + "?etat=closed").content.decode().count('data-testid="case-') == 1
    assert client.get(reverse("web:litigation") + "?etat=opened").content.decode().count('data-testid="case-') == 0


def test_the_case_page_in_english(client: Client, org: Organisation, martin: Customer, invoices: list[Invoice]) -> None:
    client.force_login(make_user("claire", org))
    case = opened(org, martin, invoices)
    page = client.get(reverse("web:litigation_case", kwargs={"pk": case.pk}), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Mark as handed over" in page and "Close the case" in page and "Marquer comme transmis" not in page


def test_read_only_members_see_but_cannot_act(client: Client, org: Organisation, martin: Customer,
                                              invoices: list[Invoice]) -> None:
    case = opened(org, martin, invoices)
    client.force_login(make_user("lecteur", org, role=Membership.Role.READ_ONLY))
    page = client.get(reverse("web:litigation_case", kwargs={"pk": case.pk})).content.decode()
    assert "FA-2026-0101" in page and "form-file" not in page and "form-close" not in page
    for action, data in (("transmettre", {"handled_by": "Maître Durand", "on": "2026-11-23"}),
                         ("cloturer", {"outcome": "paid", "on": "2026-11-23"})):
        url = reverse("web:litigation_action", kwargs={"pk": case.pk, "action": action})
        assert client.post(url, data).status_code == 403
    case.refresh_from_db()
    assert case.state == "opened" and len(events(org)) == 1


def test_restricted_collectors_see_only_their_customers_cases(client: Client, org: Organisation, martin: Customer,
                                                              invoices: list[Invoice]) -> None:
    org.collectors_see_assigned_only = True
    org.save()
    claire, paul = make_user("claire", org), make_user("paul", org)
    Customer.objects.filter(pk=martin.pk).update(collector=claire)
    garage = make_customer(org, "C002", "Garage du Centre", collector=paul)
    mine = opened(org, martin, invoices)
    theirs = opened(org, garage, [make_invoice(org, garage, "FA-2026-0200", date(2026, 9, 15), "2400.00")])
    client.force_login(claire)
    listing = client.get(reverse("web:litigation")).content.decode()
    assert "Boulangerie Martin SARL" in listing and "Garage du Centre" not in listing
    assert client.get(reverse("web:litigation_case", kwargs={"pk": mine.pk})).status_code == 200
    assert client.get(reverse("web:litigation_case", kwargs={"pk": theirs.pk})).status_code == 404
    url = reverse("web:litigation_action", kwargs={"pk": theirs.pk, "action": "cloturer"})
    assert client.post(url, {"outcome": "paid", "on": "2026-11-23"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "opened"
    other = make_org(slug="autre")
    client.force_login(make_user("zoe", other, role=Membership.Role.ADMIN))
    assert client.get(reverse("web:litigation_case", kwargs={"pk": mine.pk})).status_code == 404


# --------------------------------------------------------------------------- CLI


def _cli(capsys: Any, *args: str) -> tuple[int, Any]:
    code = main(["litigation", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_the_cli_lists_shows_files_and_closes_in_json(capsys: Any, org: Organisation, martin: Customer,
                                                      invoices: list[Invoice],
                                                      notices: tuple[Reminder, Reminder]) -> None:
    case = opened(org, martin, invoices)
    code, listing = _cli(capsys, "list", "--org", org.slug)
    assert code == 0 and listing["counts"] == {"opened": 1, "filed": 0, "request_filed": 0,
                                                             "order_issued": 0, "served": 0, "closed": 0}
    (row,) = listing["cases"]
    assert row["case"] == case.pk and row["state"] == "opened" and row["customer"]["code"] == "C001"
    assert row["total_due_now"] == "1430.50" and [i["number"] for i in row["invoices"]] == ["FA-2026-0101",
                                                                                             "FA-2026-0107"]
    assert [(n["tracking_number"], n["received_on"]) for n in row["formal_notices"]] == [
        ("1A00000000001", "2026-10-14"), (TRACKING, "2026-10-28")]

    code, shown = _cli(capsys, "show", str(case.pk), "--org", org.slug)
    assert code == 0 and shown["events"][0]["kind"] == "litigation.opened"

    code, filed = _cli(capsys, "file", str(case.pk), "--handled-by", "Cabinet Recouvr’Est", "--date", "2026-11-23",
                       "--org", org.slug)
    assert code == 0 and filed["state"] == "filed" and filed["handled_by"] == "Cabinet Recouvr’Est"
    assert _cli(capsys, "file", str(case.pk), "--handled-by", "X", "--org", org.slug)[0] == 6  # Conflict
    assert _cli(capsys, "close", str(case.pk), "--org", org.slug)[0] == 2  # no outcome
    assert _cli(capsys, "show", str(case.pk + 999), "--org", org.slug)[0] == 3
    code, closed = _cli(capsys, "close", str(case.pk), "--outcome", "paid", "--date", "2026-11-23", "--org", org.slug)
    assert code == 0 and closed["state"] == "closed" and closed["outcome"] == "paid"
    code, listing = _cli(capsys, "list", "--state", "closed", "--org", org.slug)
    assert [c["case"] for c in listing["cases"]] == [case.pk]
    assert [e.actor for e in events(org)] == ["system", "cli", "cli"]


def test_the_cli_in_text(capsys: Any, org: Organisation, martin: Customer, invoices: list[Invoice],
                         notices: tuple[Reminder, Reminder]) -> None:
    case = opened(org, martin, invoices)
    assert main(["litigation", "--org", org.slug]) == 0
    out = capsys.readouterr().out
    assert f"n° {case.pk}" in out and "Boulangerie Martin SARL" in out and "1\u202f430,50\xa0€" in out
    assert main(["litigation", "show", str(case.pk), "--org", org.slug]) == 0
    out = capsys.readouterr().out
    assert "Dossier de contentieux n° " in out and f"recommandé {TRACKING}" in out and "AR 28/10/2026" in out
