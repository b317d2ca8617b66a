"""Benchmark: every web page on 100 000 invoices over 10 000 customers.

    .venv/bin/python bench/pages.py [--invoices 100000] [--customers 10000]
                                    [--database sqlite|postgres|both] [--requests 30] [--json]
                                    [--only REGEX]   # e.g. --only '^/(\\?|clients)': those URLs only

The performance requirement of issue #5: « every page answers with p95 ≤ 300 ms (measured
by a script on loopback), and no page issues a query per row ».

Each database runs in its own subprocess (clean settings): a fresh SQLite file in a
temporary directory, or a PostgreSQL database ``relance_bench_pages`` dropped and
recreated. For each one, the data set is built once, as ``bench/planning.py`` does:
migrations, an organisation with the default scenario, ``relance.demo.dataset`` written as
CSV and imported with ``import_file`` (every invoice open), then the planner runs once for
2026-11-23 under a frozen clock (``relance.clock``; one customer in ``APPROVAL_EVERY``
follows a scenario whose first reminder waits for approval, so that « à valider » has
reminders), a few of the day's reminders are sent (e-mails to Django's memory backend,
letters rendered to PDF) so that every state and the letter PDF exist, a small bank
statement is imported so that « à vérifier » has lines, and an administrator
(``Membership`` of role admin) is created.

The real Django WSGI application (``relance.wsgi.application``) is then served by
``wsgiref`` on 127.0.0.1 (a free port) from a thread; the script logs in through the real
login form (``/accounts/login/``, CSRF token and cookies) with ``urllib`` and requests every
GET page of ``relance.web.urls`` (found from the URL patterns; ``<int:pk>`` filled with real
ids, ``<slug:key>/<str:language>`` with ``relance_1/fr``; the endpoints answering 405 to a
GET are POST-only and skipped, as are those whose object the data set lacks), plus the
customer list with search, filters, orderings and its last page, and the previews of the
scenario and template editors on a small and a large customer. Each URL gets ``--warmup``
requests, then ``--requests`` timed ones: median, p95, max of the wall time, the median CPU
time of the server thread (which a busy machine barely changes), response size, status.
The PDFs are timed on their own lines.

Separately from the HTTP timings, one request of each URL goes through Django's test client
in-process under ``CaptureQueriesContext``: its number of SQL queries, the time spent in
SQL, and the statement repeated most often (literals normalised). Pairs of URLs showing few
and many rows (a customer with 1 invoice and the one with the most, a reminder with 1 line
and the one with the most, the day's page on a day without reminders and on the bench day,
a filtered customer list and its first page…) tell whether the count grows with the rows:
more than ``QUERY_SLACK`` extra queries, or one statement repeated ``REPEAT_LIMIT`` times or
more in one request, is flagged « query per row ».

The exit status is 1, after everything is printed, when a page's p95 exceeds 300 ms, a
query per row is detected, or a GET page does not answer 2xx.

This is a benchmark, not a test: speed is measured here, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import fresh_database, log, peak_rss_mib

BENCH_DATE = date(2026, 11, 23)  # a Monday
#: the instant of the planning run and of the sample sends (a morning in Lyon)
BENCH_MOMENT = datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo("Europe/Paris"))
HISTORY_DAYS = 200
PG_BASE_URL = "postgres://postgres@127.0.0.1:5432"
PG_DB = "relance_bench_pages"
TARGET_P95_MS = 300.0
#: a page may run a few more queries when it has rows (a prefetch runs only on a non-empty list,
#: an optional lookup): more than this many extra queries between the small and the large
#: variant of a page means a query per row
QUERY_SLACK = 2
#: one statement (literals normalised) run this many times in one request is a query per row
REPEAT_LIMIT = 10
#: ``--budget``: a URL slower than the budget allows is timed this many times at least
MIN_SAMPLES = 5
USERNAME = "bench-admin"
PASSWORD = "bench-pages-Mot-de-passe-2026"
#: URL parameters that are not ids
FIXED_KWARGS = {"key": "relance_1", "language": "fr"}
PLACEHOLDER_PK = 999_999_999
SAMPLE_EMAILS = 12  # reminders sent by e-mail on the bench day (so the day's page shows « envoyée »)
SAMPLE_LETTERS = 3  # letters sent (rendered to PDF: the letters to print and the PDF page)
#: one customer in APPROVAL_EVERY follows a copy of the default scenario whose first reminder
#: (J+7) waits for a person's approval: « à valider » then has reminders, the others go out
#: (19, not 20: the queue's last page is then partly filled, to compare with a full page)
APPROVAL_EVERY = 19


# --------------------------------------------------------------------------- data set (worker)


def _prepare_environment(database: str, workdir: Path, pg_base_url: str) -> str:
    os.environ["RELANCE_DATA_DIR"] = str(workdir / "data")
    os.environ["RELANCE_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DJANGO_SETTINGS_MODULE"] = "relance.settings"
    os.environ.pop("RELANCE_DEBUG", None)  # the pages as in production: DEBUG off
    return fresh_database(database, workdir, pg_base_url, PG_DB)


def _analyze() -> None:
    """PostgreSQL: what autovacuum does after a bulk import (PostgreSQL ≥ 13 vacuums a table
    after inserts too): planner statistics, and the visibility map without which an
    index-only scan still reads every row from the table."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def _make_org() -> Any:
    from relance.dunning.services.scenarios import install_default_scenario
    from relance.ledger.models import Organisation

    org = Organisation.objects.create(
        slug="bench", legal_name="Bench SAS", legal_form="SAS au capital de 10 000 €", siren="552100554",
        address1="5 place Bellecour", postal_code="69002", city="Lyon", iban="FR7630006000011234567890189",
        bic="AGRIFRPP", sender_name="Bench — Comptabilité", sender_email="compta@bench.test",
        reply_to_email="recouvrement@bench.test", signature_name="Sophie Laurent",
        signature_title="Responsable comptable",
    )
    install_default_scenario(org)
    return org


def build(args: argparse.Namespace, workdir: Path) -> tuple[Any, Any, dict[str, Any]]:
    """The data set, the first planning run, a few sends, a bank statement and the administrator."""
    from django.contrib.auth.models import User

    from relance import clock
    from relance.demo.dataset import generate, write_contacts_csv, write_customers_csv, write_invoices_csv
    from relance.dunning.models import Reminder
    from relance.dunning.services.planner import plan_day
    from relance.ledger.models import Invoice, Membership
    from relance.ledger.services.imports import import_file

    out: dict[str, Any] = {"customers": args.customers, "invoices": args.invoices}
    org = _make_org()
    log(f"generating {args.customers} customers, {args.invoices} invoices")
    data, out["generate_s"] = _timed(generate, args.customers, args.invoices, BENCH_DATE, seed=args.seed,
                                     history_days=HISTORY_DAYS)
    files = workdir / "csv"
    files.mkdir(parents=True, exist_ok=True)
    paths = [("customers", write_customers_csv(files / "clients.csv", data.customers)),
             ("contacts", write_contacts_csv(files / "contacts.csv", data.customers)),
             # every invoice stays open (as in bench/planning.py): payments and credit notes are not written
             ("invoices", write_invoices_csv(files / "factures.csv", data.invoices))]
    del data
    for name, path in paths:
        log(f"importing {name}")
        _, out[f"import_{name}_s"] = _timed(import_file, org, path)
    assert Invoice.objects.filter(organisation=org, status=Invoice.Status.OPEN).count() == args.invoices
    _analyze()

    out["approval_customers"] = _approval_scenario(org)
    log(f"planning {BENCH_DATE} (clock frozen at {BENCH_MOMENT.isoformat()})")
    with clock.frozen(BENCH_MOMENT):
        report, out["plan_day_s"] = _timed(plan_day, org, BENCH_DATE)
    out["reminders_planned"] = len(report.reminders)
    del report
    out["sent"] = _send_samples(org)
    out["bank"] = _bank_statement(org, workdir)

    user = User.objects.create_user(USERNAME, email="admin@bench.test", password=PASSWORD, first_name="Sophie",
                                    last_name="Laurent")
    Membership.objects.create(user=user, organisation=org, role=Membership.Role.ADMIN)
    _analyze()
    out["reminders"] = dict(Counter(Reminder.objects.filter(organisation=org).values_list("status", flat=True)))
    return org, user, out


def _approval_scenario(org: Any) -> int:
    """A scenario « Avec validation » (the default one, first reminder to approve) for one customer
    in ``APPROVAL_EVERY``; returns how many customers follow it (0 without approval mode)."""
    from relance.dunning.models import Scenario, Step
    from relance.ledger.models import Customer

    if not any(f.name == "needs_approval" for f in Step._meta.get_fields()):
        return 0
    default = Scenario.objects.get(organisation=org, is_default=True)
    copy = Scenario.objects.create(organisation=org, name="Avec validation", is_default=False,
                                   thank_you=default.thank_you)
    steps = list(default.steps.all().order_by("position"))
    first = next((s.position for s in steps if s.offset_days > 0), None)
    for step in steps:
        step.pk = None
        step.scenario = copy
        step.needs_approval = step.position == first  # type: ignore[attr-defined]
    Step.objects.bulk_create(steps)
    ids = list(Customer.objects.filter(organisation=org).order_by("pk").values_list("pk", flat=True)[::APPROVAL_EVERY])
    return Customer.objects.filter(pk__in=ids).update(scenario=copy)


def _send_samples(org: Any) -> dict[str, Any]:
    """Send a few of the day's reminders with the real dispatcher, so that the pages show sent
    reminders, their events, letters to print and a stored letter PDF."""
    from relance.dunning.models import Reminder
    from relance.dunning.services.dispatcher import send_reminder

    planned = Reminder.objects.filter(organisation=org, status=Reminder.Status.PLANNED).order_by("pk")
    ids = list(planned.filter(channel="email").values_list("pk", flat=True)[:SAMPLE_EMAILS])
    ids += list(planned.filter(channel="letter").values_list("pk", flat=True)[:SAMPLE_LETTERS])
    log(f"sending {len(ids)} reminders (e-mails to memory, letters to PDF)")
    outcomes: Counter[str] = Counter()
    start = time.perf_counter()
    for pk in ids:
        outcomes[send_reminder(pk, now=BENCH_MOMENT + timedelta(hours=1))] += 1
    return {"outcomes": dict(outcomes), "seconds": time.perf_counter() - start}


def _camt053(account: str, entries: list[tuple[str, str, str]], statement_id: str) -> str:
    """A minimal camt.053.001.08 statement: one credit transfer per (amount, payer, text)."""
    from xml.sax.saxutils import escape

    rows = []
    for n, (amount, payer, text) in enumerate(entries, 1):
        on = (BENCH_DATE - timedelta(days=1 + n % 5)).isoformat()
        rows.append(
            f"<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{on}</Dt></BookgDt><ValDt><Dt>{on}</Dt></ValDt><AcctSvcrRef>{statement_id}-{n}"
            f"</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
            f"<RltdPties><Dbtr><Pty><Nm>{escape(payer)}</Nm></Pty></Dbtr></RltdPties>"
            f"<RmtInf><Ustrd>{escape(text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            f"<BkToCstmrStmt><GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{BENCH_DATE}T06:00:00</CreDtTm></GrpHdr>"
            f"<Stmt><Id>{statement_id}</Id><Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            f"{''.join(rows)}</Stmt></BkToCstmrStmt></Document>")


def _bank_statement(org: Any, workdir: Path, lines: int = 30) -> dict[str, Any]:
    """Transfers that need a person: a customer's name with an amount matching no invoice, and
    unknown payers — so that « Banque › à vérifier » has lines with candidates."""
    from relance.banking.services.review import pending_count
    from relance.banking.services.statements import import_statement
    from relance.ledger.models import Customer

    names = list(Customer.objects.filter(organisation=org).order_by("pk").values_list("legal_name", flat=True)[:lines])
    entries = []
    for n in range(lines):
        if n % 3 == 2 or n >= len(names):
            entries.append((f"{137 + n}.{n % 100:02d}", f"PAYEUR INCONNU {n}", f"VIR SEPA {n}"))
        else:
            entries.append((f"{1000 + 7 * n}.13", names[n].upper(), "REGLEMENT FACTURES"))
    path = workdir / "releve.xml"
    path.write_text(_camt053(org.iban, entries, "BENCH-1"), encoding="utf-8")
    log(f"importing a bank statement of {lines} transfers")
    try:
        _, seconds = _timed(import_statement, org, path, actor="bench")
    except Exception as exc:  # the bank app is young: a failure here must not stop the page measurements
        log(f"bank statement import failed: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"lines": lines, "import_s": seconds, "pending": pending_count(org)}


# --------------------------------------------------------------------------- the objects and the URLs


@dataclass
class Target:
    """One URL to measure."""

    key: str  # unique label in the report
    url: str
    route: str  # URL name in relance.web.urls
    rows: int | None = None  # rows shown (for the scale checks), when known
    kind: str = "page"  # page | pdf
    note: str = ""


@dataclass
class Pair:
    """A page with few rows and the same page with many: the query count must not grow."""

    page: str
    small: str  # Target keys
    large: str
    what: str


@dataclass
class Objects:
    """Real ids to fill the URL patterns with."""

    big_customer: int
    big_customer_invoices: int
    small_customer: int
    small_customer_invoices: int
    invoice: int
    invoice_rows: int
    small_invoice: int
    small_invoice_rows: int
    reminder: int
    reminder_lines: int
    small_reminder: int
    small_reminder_lines: int
    pdf_reminder: int | None
    awaiting: int | None
    awaiting_letter: int | None
    awaiting_count: int
    scenario: int
    bank_line: int | None
    search: str
    search_rows: int
    customers: int
    day_reminders: int
    extra: dict[str, Any] = field(default_factory=dict)


def pick_objects(org: Any) -> Objects:
    from django.db.models import Count, Q

    from relance.banking.models import BankTransaction
    from relance.dunning.models import Reminder, ReminderLine, Scenario
    from relance.dunning.queries import POSTAL, day_reminders
    from relance.events.models import Event
    from relance.ledger.models import Customer, Invoice

    customers = Customer.objects.filter(organisation=org).annotate(n=Count("invoices"))
    big = customers.order_by("-n", "pk").values_list("pk", "n", "legal_name").first()
    small = customers.filter(n__gte=1).order_by("n", "pk").values_list("pk", "n").first()
    assert big is not None and small is not None
    reminders = Reminder.objects.filter(organisation=org).annotate(n=Count("lines"))
    big_reminder = reminders.order_by("-n", "pk").values_list("pk", "n").first()
    small_reminder = reminders.filter(n__gte=1).order_by("n", "pk").values_list("pk", "n").first()
    assert big_reminder is not None and small_reminder is not None
    pdf = Reminder.objects.filter(organisation=org).exclude(document="").order_by("pk").values_list("pk", flat=True)

    def invoice_rows(pk: int) -> int:
        return (ReminderLine.objects.filter(invoice_id=pk).count()
                + Event.objects.filter(organisation=org, invoice_id_ref=pk).count())

    # the invoice of the largest sent reminder (it has a reminder, events), else of the largest reminder
    sent = reminders.filter(status=Reminder.Status.SENT).order_by("-n", "pk").values_list("pk", flat=True).first()
    invoice = ReminderLine.objects.filter(reminder_id=sent or big_reminder[0]).order_by("pk").values_list(
        "invoice_id", flat=True).first()
    small_invoice = Invoice.objects.filter(organisation=org, customer_id=small[0]).order_by("pk").values_list(
        "pk", flat=True).first()
    assert invoice is not None and small_invoice is not None
    # a search that finds many customers: the surname in the largest customer's name
    words = [w for w in re.split(r"\W+", big[2]) if len(w) >= 4 and not w.isupper()]
    search = max(words, key=len) if words else big[2][:4]
    scenario = Scenario.objects.filter(organisation=org, is_default=True).values_list("pk", flat=True).first()
    assert scenario is not None
    day_count = day_reminders(org, BENCH_DATE).count()
    bank_line = BankTransaction.objects.filter(organisation=org).order_by("pk").values_list("pk", flat=True).first()
    awaiting = Reminder.objects.filter(organisation=org, status="awaiting").order_by("planned_for", "pk")
    return Objects(
        big_customer=big[0], big_customer_invoices=big[1], small_customer=small[0], small_customer_invoices=small[1],
        invoice=invoice, invoice_rows=invoice_rows(invoice), small_invoice=small_invoice,
        small_invoice_rows=invoice_rows(small_invoice), reminder=big_reminder[0], reminder_lines=big_reminder[1],
        small_reminder=small_reminder[0], small_reminder_lines=small_reminder[1], pdf_reminder=pdf.first(),
        awaiting=awaiting.values_list("pk", flat=True).first(), awaiting_count=awaiting.count(),
        awaiting_letter=awaiting.filter(channel__in=POSTAL).values_list("pk", flat=True).first(),
        scenario=scenario, bank_line=bank_line, search=search,
        search_rows=customers.filter(Q(legal_name__icontains=search) | Q(code__icontains=search)).count(),
        customers=customers.count(), day_reminders=day_count,
    )


def _pk_for(route: str, objects: Objects) -> tuple[int | None, str]:
    """The id that fills ``<int:pk>`` for a URL name (by what the name says it shows)."""
    name = route.lower()
    if "approval" in name:
        if "pdf" in name:
            return objects.awaiting_letter, "letter awaiting approval"
        return objects.awaiting, "reminder awaiting approval"
    if "pdf" in name:
        return (objects.pdf_reminder, "reminder with a stored letter") if "reminder" in name else (None, "")
    if "bank" in name:
        return objects.bank_line, "bank line"
    for words, pk, what in (
        (("customer", "client"), objects.big_customer, f"customer with {objects.big_customer_invoices} invoices"),
        (("invoice", "facture"), objects.invoice, "invoice listed in a sent reminder"),
        (("reminder", "relance"), objects.reminder, f"reminder with {objects.reminder_lines} invoices"),
        (("scenario",), objects.scenario, "default scenario"),
    ):
        if any(w in name for w in words):
            return pk, what
    return None, ""


def _not_measured(target: Target, status: int) -> str:
    if status == 405:
        return "POST only"
    if target.note == "placeholder":
        return f"no such object in the data set (GET {status})" if status == 404 else ""
    return ""


def discover(objects: Objects) -> list[Target]:
    """Every URL pattern of ``relance.web.urls``, filled with real ids; then the variants."""
    from django.urls import URLPattern, reverse

    from relance.web import urls

    targets: list[Target] = []
    for pattern in urls.urlpatterns:
        if not isinstance(pattern, URLPattern) or not pattern.name:
            continue
        route = pattern.name
        kwargs: dict[str, Any] = {}
        note = ""
        for param in getattr(pattern.pattern, "converters", {}):
            if param == "pk":
                pk, note = _pk_for(route, objects)
                # no such object in the data set: a placeholder id; a GET answering 405 (POST only) or
                # 404 (nothing to show) is then reported as not measured
                kwargs[param] = pk if pk is not None else PLACEHOLDER_PK
                note = note if pk is not None else "placeholder"
            else:
                kwargs[param] = FIXED_KWARGS.get(param, "bench")
        url = reverse(f"web:{route}", kwargs=kwargs)
        kind = "pdf" if url.endswith(".pdf") else "page"
        rows = {"customer": objects.big_customer_invoices, "reminder": objects.reminder_lines,
                "invoice": objects.invoice_rows, "customers": min(objects.customers, 50),
                "today": objects.day_reminders, "approvals": min(objects.awaiting_count, _approvals_per_page())}.get(route)
        targets.append(Target(route, url, route, rows, kind, note))
    return targets


def variants(objects: Objects, today: date) -> tuple[list[Target], list[Pair]]:
    """The customer list with search, filters, orderings and its last page; small/large pairs."""
    from django.urls import reverse

    customers = reverse("web:customers")
    last = max(1, math.ceil(objects.customers / 50))

    def listing(key: str, query: dict[str, Any], rows: int | None = None, note: str = "") -> Target:
        return Target(key, f"{customers}?{urllib.parse.urlencode(query)}", "customers", rows, note=note)

    small_code = _code_of(objects.small_customer)
    out = [
        listing("customers ?q=name", {"q": objects.search}, min(objects.search_rows, 50),
                f"{objects.search_rows} customers match « {objects.search} »"),
        listing("customers ?q=code (1 row)", {"q": small_code}, 1),
        listing("customers ?tri=du", {"tri": "du"}, 50),
        listing("customers ?tri=retard", {"tri": "retard"}, 50),
        listing("customers ?min=1000", {"min": "1000"}),
        listing("customers ?retard=30", {"retard": "30"}),
        listing("customers ?suspension=aucune", {"suspension": "aucune"}),
        listing("customers ?suspension=toutes", {"suspension": "toutes"}),
        listing("customers q+min+retard+tri", {"q": objects.search, "min": "500", "retard": "15", "tri": "du"}),
        listing(f"customers ?page={last} (last)", {"page": last}),
        listing(f"customers ?tri=du&page={last}", {"tri": "du", "page": last}),
        Target("customer (small)", reverse("web:customer", kwargs={"pk": objects.small_customer}), "customer",
               objects.small_customer_invoices, note=f"{objects.small_customer_invoices} invoice(s)"),
        Target("invoice (small)", reverse("web:invoice", kwargs={"pk": objects.small_invoice}), "invoice",
               objects.small_invoice_rows),
        Target("reminder (small)", reverse("web:reminder", kwargs={"pk": objects.small_reminder}), "reminder",
               objects.small_reminder_lines),
        Target("today ?date=day before", f"{reverse('web:today')}?date={BENCH_DATE - timedelta(days=3)}", "today", 0,
               note="a day without reminders"),
    ]
    if today != BENCH_DATE:
        out.append(Target("today ?date=bench day", f"{reverse('web:today')}?date={BENCH_DATE}", "today",
                          objects.day_reminders))
    for size, pk, rows in (("small", objects.small_customer, objects.small_customer_invoices),
                           ("large", objects.big_customer, objects.big_customer_invoices)):
        out.append(Target(f"scenario ?client= ({size})",
                          f"{reverse('web:scenario', kwargs={'pk': objects.scenario})}?client={pk}", "scenario", rows,
                          note="preview on the customer"))
        out.append(Target(f"template ?client= ({size})",
                          reverse("web:template", kwargs=FIXED_KWARGS) + f"?client={pk}", "template", rows,
                          note="preview on the customer"))
    approvals = _approvals_pages(objects)
    out += approvals[0]
    pairs = approvals[1] + [
        Pair("customers", "customers ?q=code (1 row)", "customers", "1 customer vs a page of 50"),
        Pair("customer", "customer (small)", "customer",
             f"{objects.small_customer_invoices} vs {objects.big_customer_invoices} invoices"),
        Pair("invoice", "invoice (small)", "invoice",
             f"{objects.small_invoice_rows} vs {objects.invoice_rows} reminders+events"),
        Pair("reminder", "reminder (small)", "reminder",
             f"{objects.small_reminder_lines} vs {objects.reminder_lines} invoices"),
        Pair("today", "today ?date=day before",
             "today ?date=bench day" if today != BENCH_DATE else "today", f"0 vs {objects.day_reminders} reminders"),
        Pair("scenario (preview)", "scenario ?client= (small)", "scenario ?client= (large)",
             f"{objects.small_customer_invoices} vs {objects.big_customer_invoices} invoices in the preview"),
        Pair("template (preview)", "template ?client= (small)", "template ?client= (large)",
             f"{objects.small_customer_invoices} vs {objects.big_customer_invoices} invoices in the preview"),
    ]
    return out, pairs


def _approvals_per_page() -> int:
    try:
        from relance.web.views_approvals import PER_PAGE
    except ImportError:
        return 0
    return int(PER_PAGE)


def _approvals_pages(objects: Objects) -> tuple[list[Target], list[Pair]]:
    """« À valider »: its last page (fewer cards) against its first (a full page)."""
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("web:approvals")
    except NoReverseMatch:
        return [], []
    per_page = _approvals_per_page()
    if not per_page:
        return [], []
    last = max(1, math.ceil(objects.awaiting_count / per_page))
    rows = objects.awaiting_count - (last - 1) * per_page
    if last == 1 or rows == per_page:
        return [], []
    return ([Target(f"approvals ?page={last} (last)", f"{url}?page={last}", "approvals", rows)],
            [Pair("approvals", f"approvals ?page={last} (last)", "approvals", f"{rows} vs {per_page} reminders")])


def _code_of(customer_id: int) -> str:
    from relance.ledger.models import Customer

    return Customer.objects.values_list("code", flat=True).get(pk=customer_id)


# --------------------------------------------------------------------------- queries (in-process)

_LITERALS = [
    (re.compile(r"'(?:[^']|'')*'"), "?"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "?"),
    (re.compile(r"\((?:\s*\?\s*,)+\s*\?\s*\)"), "(…)"),
    (re.compile(r"\s+"), " "),
]


_TRANSACTION = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


def statement_shape(sql: str) -> str:
    for regex, replacement in _LITERALS:
        sql = regex.sub(replacement, sql)
    return sql.strip()


def count_queries(client: Any, url: str) -> dict[str, Any]:
    """One request through the test client, under ``CaptureQueriesContext``, after an untimed one
    (the first request of a session stores the current organisation in it; caches fill)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    connection.queries_log = deque(maxlen=10**6)  # Django keeps only the last 9 000 otherwise
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        elapsed = time.perf_counter() - start
    captured = [(statement_shape(q["sql"]), float(q["time"]) * 1000) for q in ctx.captured_queries]
    shapes = Counter(shape for shape, _ in captured if not _TRANSACTION.match(shape))
    top, repeats = shapes.most_common(1)[0] if shapes else ("", 0)
    if len(captured) <= 60:  # each statement with its time (Django rounds it to the millisecond)
        statements = [f"{ms:.0f} ms  {shape[:300]}" for shape, ms in captured]
    else:
        statements = [f"{n}× {shape[:300]}" for shape, n in shapes.most_common(15)]
    return {
        "status": response.status_code, "queries": len(captured),
        "sql_ms": sum(ms for _, ms in captured), "in_process_ms": elapsed * 1000,
        "max_repeats": repeats, "repeated_statement": top[:400] if repeats > 1 else "", "statements": statements,
    }


def profile_request(client: Any, url: str, top: int = 25) -> str:
    """cProfile of one in-process request: where a slow page spends its time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    response = client.get(url)
    profiler.disable()
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("cumulative").print_stats("/relance/", top)  # the project's functions
    stats.sort_stats("tottime").print_stats(15)  # and the hottest of all
    return f"status {response.status_code}\n{buf.getvalue()}"


# --------------------------------------------------------------------------- HTTP (loopback)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as its status (a page redirecting to the login form must be seen)."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


class CpuMeter:
    """Wraps the WSGI application: the CPU time of the server thread for each request (the
    response is joined inside, and closed, so Django's end-of-request work is included). On a
    shared machine the wall time also counts the waits for a CPU; this does not."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.last_ms = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start = time.thread_time()
        result = self.application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self.last_ms = (time.thread_time() - start) * 1000
        return [body]


def serve() -> tuple[Any, str, CpuMeter]:
    """The real WSGI application on 127.0.0.1 on a free port, in a daemon thread."""
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from relance.wsgi import application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    meter = CpuMeter(application)
    server: WSGIServer = make_server("127.0.0.1", 0, meter, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="wsgi", daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}", meter


def fetch(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> tuple[int, bytes, float, Any]:
    start = time.perf_counter()
    try:
        with opener.open(url, data=data, timeout=300) as response:
            body = response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as exc:
        body, status, headers = exc.read(), exc.code, exc.headers
    return status, body, time.perf_counter() - start, headers


def login(base: str) -> tuple[urllib.request.OpenerDirector, dict[str, Any]]:
    """Through the real form: GET the page (CSRF cookie and token), POST the credentials."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    status, body, _, _ = fetch(opener, f"{base}/accounts/login/")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not match:
        raise RuntimeError(f"login page: status {status}, CSRF token {'found' if match else 'missing'}")
    form = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD, "next": "/",
                                   "csrfmiddlewaretoken": match.group(1).decode()}).encode()
    status, body, seconds, headers = fetch(opener, f"{base}/accounts/login/", form)
    cookies = {c.name for c in jar}
    if status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"login refused: status {status}, cookies {sorted(cookies)}: {body[:300]!r}")
    return opener, {"status": status, "location": headers.get("Location"), "seconds": seconds}


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def time_url(opener: urllib.request.OpenerDirector, base: str, url: str, n: int, warmup: int,
             budget_s: float, meter: CpuMeter) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    sizes: set[int] = set()
    for _ in range(warmup):
        fetch(opener, base + url)
    samples: list[float] = []
    cpu: list[float] = []
    started = time.perf_counter()
    for _ in range(n):
        status, body, seconds, _ = fetch(opener, base + url)
        statuses[status] += 1
        sizes.add(len(body))
        samples.append(seconds * 1000)
        cpu.append(meter.last_ms)
        if time.perf_counter() - started > budget_s and len(samples) >= MIN_SAMPLES:
            break
    return {
        "n": len(samples), "median_ms": statistics.median(samples), "p95_ms": percentile(samples, 0.95),
        "max_ms": max(samples), "min_ms": min(samples), "cpu_median_ms": statistics.median(cpu),
        "cpu_p95_ms": percentile(cpu, 0.95), "bytes": max(sizes), "status": statuses.most_common(1)[0][0],
        "statuses": {str(k): v for k, v in statuses.items()}, "samples_ms": [round(s, 2) for s in samples],
    }


def _connect_ms() -> float:
    """The cost of opening a database connection (paid by every request: ``conn_max_age=0``)."""
    from django.db import connection

    times = []
    for _ in range(7):
        connection.close()
        start = time.perf_counter()
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# --------------------------------------------------------------------------- worker


def worker(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"relance-bench-pages-{args.worker}-"))
    try:
        result = _measure(args, workdir)
    finally:
        if not args.keep:  # also when the measure fails
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    if args.keep:
        result["workdir"] = str(workdir)
    return result


def _measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    target = _prepare_environment(args.worker, workdir, args.pg_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from relance.clock import today_for

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    result: dict[str, Any] = {"database": args.worker, "target": target, "migrate_s": time.perf_counter() - start,
                              "loadavg_start": os.getloadavg()}
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if connection.vendor == "sqlite" else "show server_version")
        result["server_version"] = cursor.fetchone()[0]

    org, user, result["build"] = build(args, workdir)
    objects = pick_objects(org)
    result["objects"] = asdict(objects)
    today = today_for(org)
    result["served_today"] = today.isoformat()
    if today != BENCH_DATE:
        log(f"warning: the pages' today is {today}, not {BENCH_DATE} (the date of the data set)")
    targets = discover(objects)
    extra, pairs = variants(objects, today)
    targets += extra
    if args.only:  # ``--only``: the data is built the same, only the matching URLs are measured
        only = re.compile(args.only)
        targets = [t for t in targets if only.search(t.url)]
        log(f"--only {args.only!r}: {len(targets)} URLs")
    result["connect_ms"] = _connect_ms()

    # ---- query counts, in-process (test client), one request each
    client = Client(raise_request_exception=False)  # a page failing is a 500 in the report, not a crash
    client.force_login(user)
    log(f"counting queries of {len(targets)} URLs")
    counted: dict[str, dict[str, Any]] = {}
    for t in targets:
        counted[t.key] = count_queries(client, t.url)
    skipped = [{"route": t.route, "url": t.url, "reason": _not_measured(t, counted[t.key]["status"])}
               for t in targets if _not_measured(t, counted[t.key]["status"])]
    targets = [t for t in targets if not _not_measured(t, counted[t.key]["status"])]
    connection.close()

    # ---- HTTP timings on loopback, through the real login
    server, base, meter = serve()
    try:
        opener, result["login"] = login(base)
        pages = []
        for t in targets:
            log(f"GET {t.url} ×{args.warmup}+{args.requests}")
            result.setdefault("loadavg_pages", os.getloadavg())
            timing = time_url(opener, base, t.url, args.requests, args.warmup, args.budget, meter)
            q = counted[t.key]
            pages.append({**asdict(t), **timing, "queries": q["queries"], "sql_ms": q["sql_ms"],
                          "in_process_ms": q["in_process_ms"], "query_status": q["status"],
                          "max_repeats": q["max_repeats"], "repeated_statement": q["repeated_statement"],
                          "statements": q["statements"]})
    finally:
        server.shutdown()
        server.server_close()
    result["pages"] = pages
    result["skipped"] = skipped
    if args.profile:
        for p in pages:
            if p["p95_ms"] > TARGET_P95_MS:
                log(f"profile of one request of {p['key']} ({p['url']}):\n{profile_request(client, p['url'])}")

    by_key = {p["key"]: p for p in pages}
    checks = []
    for pair in pairs:
        small, large = by_key.get(pair.small), by_key.get(pair.large)
        if small is None or large is None:
            continue
        growth = large["queries"] - small["queries"]
        checks.append({**asdict(pair), "small_queries": small["queries"], "large_queries": large["queries"],
                       "small_rows": small["rows"], "large_rows": large["rows"], "growth": growth,
                       "per_row": growth > QUERY_SLACK})
    result["scale_checks"] = checks
    result["database_size_mib"] = _database_size(target)
    result["rss_peak_mib"] = peak_rss_mib()
    result["loadavg_end"] = os.getloadavg()
    connection.close()
    return result


def _database_size(target: str) -> float:
    from django.db import connection

    if connection.vendor == "sqlite":
        return Path(target).stat().st_size / 2**20
    with connection.cursor() as cursor:
        cursor.execute("select pg_database_size(current_database())")
        return float(cursor.fetchone()[0]) / 2**20


# --------------------------------------------------------------------------- verdicts and report


def problems(result: dict[str, Any]) -> list[str]:
    """Everything that fails the requirement, in words."""
    out = []
    db = result["database"]
    for p in result["pages"]:
        if p["p95_ms"] > TARGET_P95_MS:
            out.append(f"{db}: {p['key']} ({p['url']}): p95 {p['p95_ms']:.0f} ms > {TARGET_P95_MS:.0f} ms")
        if not 200 <= p["status"] < 300:
            out.append(f"{db}: {p['key']} ({p['url']}): status {p['status']}")
        if p["max_repeats"] >= REPEAT_LIMIT:
            out.append(f"{db}: {p['key']} ({p['url']}): query per row — one statement run {p['max_repeats']} times "
                       f"in one request: {p['repeated_statement'][:200]}")
    for c in result["scale_checks"]:
        if c["per_row"]:
            out.append(f"{db}: {c['page']}: query per row — {c['small_queries']} queries for {c['small_rows']} "
                       f"rows, {c['large_queries']} for {c['large_rows']} ({c['what']})")
    return out


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} KiB" if n >= 10 * 1024 else f"{n:,} B"


def render(results: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for r in results:
        b = r["build"]
        o = r["objects"]
        lines += [
            f"== {r['database']} {str(r['server_version']).split()[0]} — {b['invoices']} invoices, "
            f"{b['customers']} customers; {b['reminders_planned']} reminders planned on {BENCH_DATE}; "
            f"pages' today {r['served_today']}",
            f"   build: import {b['import_customers_s'] + b['import_contacts_s'] + b['import_invoices_s']:.0f} s, "
            f"plan_day {b['plan_day_s']:.1f} s, sample sends {b['sent']['outcomes']}, bank {b['bank']}; "
            f"DB connection {r['connect_ms']:.1f} ms; database {r['database_size_mib']:.0f} MiB",
            f"   ids: customer {o['big_customer']} ({o['big_customer_invoices']} invoices) / {o['small_customer']} "
            f"({o['small_customer_invoices']}), reminder {o['reminder']} ({o['reminder_lines']} lines) / "
            f"{o['small_reminder']} ({o['small_reminder_lines']}), invoice {o['invoice']} / {o['small_invoice']}, "
            f"scenario {o['scenario']}, search « {o['search']} » ({o['search_rows']} customers), "
            f"{o['awaiting_count']} reminders awaiting approval, reminders by status {b['reminders']}",
            "",
            f"{'page':<34}{'status':>7}{'queries':>8}{'SQL ms':>8}{'CPU':>8}{'median':>9}{'p95':>9}{'max':>9}{'size':>10}"
            f"{'n':>4}  verdict",
            "-" * 118,
        ]
        for p in sorted(r["pages"], key=lambda p: (p["kind"] == "pdf", p["route"], p["key"])):
            verdict = []
            if p["p95_ms"] > TARGET_P95_MS:
                verdict.append("SLOW")
            if not 200 <= p["status"] < 300:
                verdict.append(f"HTTP {p['status']}")
            if p["max_repeats"] >= REPEAT_LIMIT:
                verdict.append(f"{p['max_repeats']}× same query")
            lines.append(f"{p['key'][:33]:<34}{p['status']:>7}{p['queries']:>8}{_ms(p['sql_ms']):>8}"
                         f"{_ms(p['cpu_median_ms']):>8}{_ms(p['median_ms']):>9}{_ms(p['p95_ms']):>9}"
                         f"{_ms(p['max_ms']):>9}{_size(p['bytes']):>10}"
                         f"{p['n']:>4}  {', '.join(verdict) or 'ok'}")
        lines += ["(queries and SQL ms: one request in-process under CaptureQueriesContext; CPU: median CPU time of "
                  "the server thread per request; median, p95, max: wall time of the HTTP request on loopback, ms)"]
        lines += ["", "query count, few rows vs many rows (per row when it grows by more than "
                      f"{QUERY_SLACK}):"]
        for c in r["scale_checks"]:
            lines.append(f"   {c['page']:<22} {c['small_queries']:>4} → {c['large_queries']:<4} ({c['what']})"
                         f"{'   QUERY PER ROW' if c['per_row'] else ''}")
        if r["skipped"]:
            lines.append("not measured: " + "; ".join(f"{s['route']} ({s['reason']})" for s in r["skipped"]))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per URL (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per URL first (default %(default)s)")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="stop timing a URL after this many seconds once 10 requests are done (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-url", default=os.environ.get("RELANCE_BENCH_PG_URL", PG_BASE_URL),
                        help="PostgreSQL server URL without database name (default %(default)s)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile (to stderr) one in-process request of each page over the target")
    parser.add_argument("--save", type=Path, help="also write the JSON object to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (CSV, SQLite file, PDFs)")
    parser.add_argument("--only", metavar="REGEX",
                        help="measure only the URLs (path and query string) this regular expression matches "
                             "(re.search); the data set is built in full all the same")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only is not None:
        try:
            re.compile(args.only)
        except re.error as exc:
            parser.error(f"--only: invalid regular expression: {exc}")

    if args.worker:
        print(json.dumps(worker(args), default=_json_default))
        return 0

    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results: list[dict[str, Any]] = []
    crashed: list[str] = []
    for database in databases:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", database, "--invoices", str(args.invoices),
               "--customers", str(args.customers), "--seed", str(args.seed), "--pg-url", args.pg_url,
               "--requests", str(args.requests), "--warmup", str(args.warmup), "--budget", str(args.budget)]
        cmd += ["--keep"] if args.keep else []
        cmd += ["--profile"] if args.profile else []
        cmd += ["--only", args.only] if args.only is not None else []
        log(f"{database}: starting")
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0:
            log(f"{database}: failed (exit code {proc.returncode})")
            crashed.append(f"{database}: the benchmark itself failed (exit code {proc.returncode}, see stderr)")
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - start
        results.append(result)
        log(f"{database}: done in {result['wall_s']:.0f} s")
        if args.save:  # after each database: a later failure does not lose this one
            args.save.write_text(_report(results, crashed) + "\n", encoding="utf-8")

    failures = crashed + [f for r in results for f in problems(r)]
    report = _report(results, failures)
    if args.save:
        args.save.write_text(report + "\n", encoding="utf-8")
    if args.json:
        print(report)
    else:
        print(render(results))
    for failure in failures:
        log(f"FAILED {failure}")
    return 1 if failures else 0


def _report(results: list[dict[str, Any]], failures: list[str]) -> str:
    return json.dumps({"bench_date": BENCH_DATE.isoformat(), "target_p95_ms": TARGET_P95_MS,
                       "query_slack": QUERY_SLACK, "repeat_limit": REPEAT_LIMIT, "python": sys.version.split()[0],
                       "cpus": os.cpu_count(), "results": results, "failures": failures}, indent=2)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal | date):
        return str(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
