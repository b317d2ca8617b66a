"""The list pages on many rows (issue #5): the day's page counts every reminder but lists a
page of each status, the customer list computes balances only where it must, the previews'
customer selector and the dashboard read no more than they show."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import relance.web
from relance.dunning import queries as dunning
from relance.dunning.models import CallTask, Reminder, Step
from relance.ledger import queries as ledger
from relance.ledger.models import Customer, Invoice, Membership, Organisation
from tests.builders import bare_org, make_customer, make_invoice, make_user
from tests.integration.test_web import DAY, PARIS, login, make_reminder, make_scenario

pytestmark = pytest.mark.django_db
S = Reminder.Status


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org() -> Organisation:
    return bare_org("atelier", "Atelier Dubois SAS")


@pytest.fixture
def steps(org: Organisation) -> list[Step]:
    return list(make_scenario(org).steps.order_by("position"))


@pytest.fixture
def user(org: Organisation) -> User:
    return make_user("claire", org, role=Membership.Role.ADMIN)


@pytest.fixture
def web(client: Client, user: User) -> Client:
    return login(client, user)


def _reminders(org: Organisation, n: int, step: Step | None, status: str = S.PLANNED, start: int = 0,
               **kwargs: Any) -> list[Reminder]:
    """``n`` customers with two open invoices each (100 € and 20,50 €) and one reminder."""
    out = []
    for i in range(start, start + n):
        customer = make_customer(org, f"R{i:03}", f"Client {i:03}")
        invoices = [make_invoice(customer, f"R{i:03}-A", "100.00", DAY - timedelta(days=20)),
                    make_invoice(customer, f"R{i:03}-B", "20.50", DAY - timedelta(days=10))]
        out.append(make_reminder(customer, invoices, step=step, status=status, **kwargs))
    return out


def _queries(client: Client, url: str) -> list[str]:
    client.get(url)  # the first request of a session also writes the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _groups(response: Any) -> dict[str, Any]:
    return {g.status: g for g in response.context["groups"]}


# --------------------------------------------------------------------------- the day's page


def test_day_page_counts_every_reminder_and_lists_a_page_of_each_status(
    web: Client, org: Organisation, steps: list[Step]
) -> None:
    planned = _reminders(org, 40, steps[0]) + _reminders(org, 20, steps[1], start=40)
    failed = _reminders(org, 2, steps[1], S.FAILED, start=60, last_error="550 inconnu")
    response = web.get(f"/?date={DAY}")
    groups = _groups(response)
    assert list(groups) == ["failed", "planned"]
    assert groups["planned"].count == 60 and groups["planned"].pages == 2
    assert len(groups["planned"].reminders) == dunning.DAY_PAGE_SIZE == 50
    assert groups["planned"].steps == [("Rappel amical", 40), ("Relance ferme", 20)]
    assert [r.pk for r in groups["failed"].reminders] == [r.pk for r in failed]
    assert response.context["reminder_count"] == 62 and response.context["failed_count"] == 2
    # the page lists by date then customer; its totals are those of its own rows
    listed = groups["planned"].reminders
    assert [r.customer_id for r in listed] == sorted(r.customer_id for r in listed)
    assert {r.pk for r in listed} == {r.pk for r in sorted(planned, key=lambda r: r.customer_id)[:50]}
    assert {(r.n_invoices, r.total) for r in listed} == {(2, Decimal("120.50"))}
    page = response.content.decode()
    assert "Rappel amical\u00a0: 40 · Relance ferme\u00a0: 20" in page
    assert "Page 1 sur 2" in page and "page_planned=2" in page and f"date={DAY}" in page

    second = web.get(f"/?date={DAY}&page_planned=2")
    groups = _groups(second)
    assert groups["planned"].number == 2 and len(groups["planned"].reminders) == 10
    shown = {r.pk for g in (_groups(response)["planned"], groups["planned"]) for r in g.reminders}
    assert shown == {r.pk for r in planned}  # the two pages together: every planned reminder once
    assert [r.pk for r in groups["failed"].reminders] == [r.pk for r in failed]  # the other group stays
    assert _groups(web.get(f"/?date={DAY}&page_planned=99"))["planned"].number == 2  # beyond: the last
    assert _groups(web.get(f"/?date={DAY}&page_planned=x"))["planned"].number == 1


def test_day_page_queries_do_not_grow_with_the_reminders(web: Client, org: Organisation, steps: list[Step]) -> None:
    _reminders(org, 1, steps[0])
    _reminders(org, 1, steps[1], S.FAILED, start=1)
    few = _queries(web, f"/?date={DAY}")
    _reminders(org, 60, steps[0], start=2)
    _reminders(org, 12, steps[1], S.FAILED, start=62)
    many = _queries(web, f"/?date={DAY}")
    assert len(many) == len(few)
    # the totals are computed for the listed reminders only (50 planned, 13 failed), chosen in a subquery
    totals = [q for q in many if "dunning_reminderline" in q]
    assert len(totals) == 1 and '"dunning_reminder"."id" IN (SELECT' in totals[0] and "ROW_NUMBER()" in totals[0]
    assert sum(len(g.reminders) for g in web.get(f"/?date={DAY}").context["groups"]) == 50 + 13


def test_day_page_awaiting_approval_is_a_problem_shown_until_approved(
    web: Client, org: Organisation, steps: list[Step]
) -> None:
    earlier = _reminders(org, 1, steps[0], S.AWAITING_APPROVAL, planned_for=DAY - timedelta(days=2))[0]
    _reminders(org, 1, steps[0], S.UNCERTAIN, start=1)
    _reminders(org, 1, steps[0], S.PLANNED, start=2)
    response = web.get(f"/?date={DAY}")
    assert list(_groups(response)) == ["uncertain", "awaiting", "planned"]
    assert _groups(response)["awaiting"].is_problem and not _groups(response)["planned"].is_problem
    page = response.content.decode()
    assert 'class="badge status-awaiting"' in page and "À valider" in page
    assert reverse("web:approval", kwargs={"pk": earlier.pk}) in page
    css = (Path(relance.web.__file__).parent / "static" / "relance" / "relance.css").read_text(encoding="utf-8")
    assert ".badge.status-awaiting {" in css


def test_day_page_letters_and_calls_are_paged(web: Client, org: Organisation, steps: list[Step]) -> None:
    sent_at = datetime.combine(DAY, time(9), tzinfo=PARIS)
    letters = _reminders(org, 55, steps[2], S.SENT, channel="registered_letter", sent_at=sent_at)
    for reminder in letters:
        CallTask.objects.create(organisation=org, customer=reminder.customer, reminder=reminder, due_on=DAY)
    response = web.get(f"/?date={DAY}")
    assert response.context["letters"].paginator.count == 55 and len(response.context["letters"]) == 50
    assert response.context["calls"].paginator.count == 55 and len(response.context["calls"]) == 50
    assert {r.total for r in response.context["letters"]} == {Decimal("120.50")}
    page = response.content.decode()
    assert "page_letters=2" in page and "page_calls=2" in page
    second = web.get(f"/?date={DAY}&page_letters=2&page_calls=2")
    assert len(second.context["letters"]) == 5 and len(second.context["calls"]) == 5


# --------------------------------------------------------------------------- customers


@pytest.fixture
def ledger_world(org: Organisation) -> list[Customer]:
    """75 customers: amounts, delays and states of every kind (some owe nothing, one only a
    credited invoice, two share a name), and another organisation's customer."""
    customers = []
    for i in range(75):
        name = "Même Nom SARL" if i in (10, 11) else f"Client {(i * 37) % 75:03}"
        customer = make_customer(org, f"C{i:03}", name)
        customers.append(customer)
        for k in range(i % 4):
            make_invoice(customer, f"F{i:03}-{k}", f"{(i * 13 + k * 7) % 900 + 10}.{i % 100:02}",
                         DAY - timedelta(days=(i * 11 + k * 17) % 120 - 20))
        if i % 9 == 0:
            make_invoice(customer, f"P{i:03}", "55.00", DAY - timedelta(days=70), amount_due=Decimal("0"),
                         status=Invoice.Status.PAID)
        if i % 10 == 0:
            make_invoice(customer, f"Z{i:03}", "12.00", DAY - timedelta(days=3), amount_due=Decimal("0"))
    other = bare_org("autre", "Autre SA")
    make_invoice(make_customer(other, "X1", "Client 001 étranger"), "X-1", "999.00", DAY - timedelta(days=300))
    return customers


ROW = ("pk", "code", "amount_due", "overdue", "oldest_due", "open_invoices")
CASES = [
    ("nom", None), ("du", None), ("retard", None),
    ("nom", ledger.CustomerFilters(min_due=Decimal("500"))),
    ("du", ledger.CustomerFilters(min_days_late=30)),
    ("retard", ledger.CustomerFilters(min_due=Decimal("100"), min_days_late=10)),
]


def _expected(org: Organisation, ordering: str, filters: ledger.CustomerFilters | None) -> list[tuple[Any, ...]]:
    """The list computed in Python from every invoice: what the pages must show, in order."""
    rows = []
    for c in Customer.objects.filter(organisation=org):
        open_ = [i for i in c.invoices.all() if i.status == Invoice.Status.OPEN]
        late = [i for i in open_ if i.due_date < DAY and i.amount_due > 0]
        rows.append((c.pk, c.code, sum((i.amount_due for i in open_), Decimal("0.00")),
                     sum((i.amount_due for i in late), Decimal("0.00")), min((i.due_date for i in late), default=None),
                     len(open_), c.legal_name))
    if filters and filters.min_due is not None:
        rows = [r for r in rows if r[2] >= filters.min_due]
    if filters and filters.min_days_late is not None:
        rows = [r for r in rows if r[4] is not None and (DAY - r[4]).days >= filters.min_days_late]
    key = {"nom": lambda r: (r[6], r[1]), "du": lambda r: (-r[2], r[6]),
           "retard": lambda r: (r[4] is None, r[4] or DAY, r[6])}[ordering]
    return [r[:6] for r in sorted(rows, key=key)]


@pytest.mark.parametrize(("ordering", "filters"), CASES)
def test_customer_listing_pages_are_the_full_list_cut_in_pages(
    org: Organisation, ledger_world: list[Customer], ordering: str, filters: ledger.CustomerFilters | None
) -> None:
    from django.core.paginator import Paginator

    expected = _expected(org, ordering, filters)
    assert 5 < len(expected) < 75 or filters is None  # every filter keeps some customers and drops others
    paginator = Paginator(ledger.customer_listing(org, DAY, "", ordering, None, filters), 20)
    rows = [tuple(getattr(c, f) for f in ROW) for n in paginator.page_range for c in paginator.page(n)]
    assert paginator.count == len(expected)
    assert rows == expected
    # the API's full list (every balance at once) gives the same figures
    assert [tuple(getattr(c, f) for f in ROW)
            for c in ledger.customers_with_balances(org, DAY, "", ordering, None, filters)] == expected


def test_customer_listing_search_and_extra_condition(org: Organisation, ledger_world: list[Customer]) -> None:
    extra = ledger.CustomerFilters(extra=~ledger.Q(code__endswith="0"))
    listing = ledger.customer_listing(org, DAY, "même", "du", None, extra)
    assert [c.code for c in listing[:10]] == ["C011"]  # C010 is excluded by the extra condition
    assert listing.count() == 1 and len(listing) == 1 and listing[0].code == "C011"
    with pytest.raises(IndexError):
        listing[1]


def test_customer_list_counts_without_the_invoices_unless_a_filter_needs_them(
    web: Client, org: Organisation, ledger_world: list[Customer]
) -> None:
    def counts(url: str) -> list[str]:
        return [q for q in _queries(web, url) if "COUNT(*)" in q and "ledger_customer" in q]

    for url in ("/clients/", "/clients/?tri=du&page=2", "/clients/?tri=retard&q=client&suspension=aucune"):
        found = counts(url)
        assert len(found) == 1 and "ledger_invoice" not in found[0], url
    # a filter on balances: one query gives the ids of every customer passing it (no COUNT)
    assert counts("/clients/?min=500") == []
    page = web.get("/clients/?min=500")
    assert page.context["page"].paginator.count == len(
        ledger.customers_with_balances(org, DAY, filters=ledger.CustomerFilters(min_due=Decimal("500"))))
    # by name: the page is chosen without the invoices, its 50 rows only get their balances
    balances = [q for q in _queries(web, "/clients/") if "ledger_invoice" in q]
    assert len(balances) == 1 and ' IN (' in balances[0]


# --------------------------------------------------------------------------- previews' selector


def test_preview_selector_searches_instead_of_ranking_every_customer(web: Client, org: Organisation) -> None:
    from relance.dunning.services.scenarios import install_default_scenario

    scenario = install_default_scenario(org)
    reminded = _reminders(org, 3, None)
    quiet = make_customer(org, "Q001", "Quincaillerie Tranquille")
    make_invoice(quiet, "Q-1", "10.00", DAY - timedelta(days=40))
    scenario_url = reverse("web:scenario", kwargs={"pk": scenario.pk})
    template_url = reverse("web:template", kwargs={"key": "relance_1", "language": "fr"})
    for url in (scenario_url, template_url):
        response = web.get(url)
        assert {c.pk for c in response.context["customers"]} == {r.customer_id for r in reminded}
        found = web.get(url, {"recherche": "quincaill"})
        assert [c.pk for c in found.context["customers"]] == [quiet.pk]
        assert 'name="recherche"' in found.content.decode() and 'value="quincaill"' in found.content.decode()
        kept = web.get(url, {"recherche": "quincaill", "client": reminded[0].customer_id})
        assert [c.pk for c in kept.context["customers"]] == [reminded[0].customer_id, quiet.pk]
        assert "Aucun client ne correspond" in web.get(url, {"recherche": "introuvable"}).content.decode()
        # no balance is computed for the selector
        assert not any("GROUP BY" in q and "ledger_invoice" in q for q in _queries(web, url))


def test_preview_selector_respects_the_collector_restriction(org: Organisation, steps: list[Step]) -> None:
    org.collectors_see_assigned_only = True
    org.save()
    claire = make_user("paul", org)
    mine = _reminders(org, 1, steps[0])[0].customer
    mine.collector = claire
    mine.save()
    _reminders(org, 1, steps[0], start=1)
    assert [c.pk for c in dunning.customer_choices(org, "", claire.pk)] == [mine.pk]
    assert [c.pk for c in dunning.customer_choices(org, "client", claire.pk)] == [mine.pk]


# --------------------------------------------------------------------------- dashboard


def test_receivables_are_the_figures_of_the_separate_queries(org: Organisation, ledger_world: list[Customer]) -> None:
    on = DAY
    figures = ledger.receivables(org, on)
    assert figures.outstanding == ledger.outstanding(org, on)
    assert figures.aging == ledger.aging(org, on)
    assert figures.dso == ledger.dso(org, on)
    open_ = Invoice.objects.filter(organisation=org, status=Invoice.Status.OPEN)
    assert figures.outstanding.total == sum((i.amount_due for i in open_), Decimal("0.00"))
    late = [i for i in open_ if i.due_date < on and i.amount_due > 0]
    assert figures.outstanding.overdue == sum((i.amount_due for i in late), Decimal("0.00"))
    assert figures.outstanding.overdue_customers == len({i.customer_id for i in late})
    assert sum(b.invoices for b in figures.aging) == len([i for i in open_ if i.amount_due > 0])


def test_receivables_for_a_restricted_collector(org: Organisation) -> None:
    paul = make_user("paul", org)
    mine = make_customer(org, "C1", "Boulangerie", collector=paul)
    other = make_customer(org, "C2", "Garage")
    make_invoice(mine, "F1", "100.00", DAY - timedelta(days=40), issued=DAY - timedelta(days=70))
    make_invoice(other, "F2", "900.00", DAY - timedelta(days=5), issued=DAY - timedelta(days=35))
    figures = ledger.receivables(org, DAY, paul.pk)
    assert (figures.outstanding.total, figures.outstanding.overdue_customers) == (Decimal("100.00"), 1)
    assert {b.key: b.amount for b in figures.aging if b.amount} == {"d31_60": Decimal("100.00")}
    assert (figures.dso.invoiced, figures.dso.days) == (Decimal("100.00"), Decimal("90"))
    everyone = ledger.receivables(org, DAY)
    assert everyone.outstanding.total == Decimal("1000.00") and everyone.outstanding.overdue_customers == 2


def test_dashboard_queries_read_the_invoices_four_times(web: Client, org: Organisation,
                                                        ledger_world: list[Customer]) -> None:
    reads = [q for q in _queries(web, reverse("web:dashboard")) if '"ledger_invoice"' in q]
    assert len(reads) == 4  # the figures three times, and the prescription watch selecting by date


def test_aging_bucket_edges() -> None:
    assert [ledger._bucket_of(d) for d in (-400, 0, 1, 30, 31, 60, 61, 90, 91, 5000)] == [
        "not_due", "not_due", "d1_30", "d1_30", "d31_60", "d31_60", "d61_90", "d61_90", "d90", "d90"]


def test_day_page_is_bounded_on_a_day_without_reminders(web: Client, org: Organisation) -> None:
    response = web.get(f"/?date={date(2026, 1, 5)}")
    assert response.status_code == 200 and response.context["groups"] == []
    assert "Aucune relance prévue ce jour ni en attente." in response.content.decode()


def test_thousands_filter() -> None:
    from relance.web.templatetags.relance_tags import thousands

    assert thousands(9454) == "9\u202f454" and thousands(12) == "12" and thousands(None) == ""
