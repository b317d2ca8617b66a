"""Benchmark: 100 000 bank lines matched against 100 000 open invoices of 10 000 customers.

    .venv/bin/python bench/bank_matching.py [--lines 100000] [--invoices 100000] [--customers 10000]
                                            [--database sqlite|postgres|both] [--json] [--profile] [--keep]

By default SQLite, and PostgreSQL too when ``DATABASE_URL`` is set (its server is used; the
database ``relance_bench_bank`` is dropped and recreated there). Each database runs in its
own subprocess (clean settings): migrations, then a realistic ledger (``relance.demo.dataset``,
written with ``bulk_create``: every invoice open, ISO 11649 references as
``ledger.services.references`` gives them, a payer IBAN already learnt for 30 % of the
customers), then camt.053 statements (at most 50 MB each, the reader's limit) whose credits
pay those invoices the ways customers do:

    RF reference of an invoice 30 %, invoice number in the text (spelling varies) 24 %, two
    invoices in one transfer 8 %, known payer IBAN and the amount of an invoice 10 %,
    customer RF reference 4 %, partial payment with the number 5 %, over-payment 3 %,
    name only 5 %; once the invoices are all used, unknown payers; and 1 % of debits.

Measured: reading the files alone; the matcher alone (bulk load + decisions, nothing
written); then the whole ``import_statement`` of every file — what the budget (60 s) is
about: reading, storing the lines, matching, payments, allocations, learnt aliases, events,
balances and the dunning reaction to the settled invoices — with its query count, which
must not grow with the lines (at most one statement per 20 lines: bulk writes by batches).
Then the same file again (already imported), an overlapping statement, and the review list.
The exit status is 1 when the budget or the query bound is exceeded (figures printed first).

This is a benchmark, not a test: speed is measured here, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

from _common import QueryCounter, fresh_database, log, peak_rss_mib

BENCH_DATE = date(2026, 11, 23)  # a Monday
BUDGET_S = 60.0
MAX_QUERIES_PER_LINE = 1 / 20
OWN_IBAN = "FR7630006000011234567890189"
PG_DB = "relance_bench_bank"
STATEMENT_DAYS = 20


def cpu_reference_s() -> float:
    """A fixed pure-Python loop (10 million additions), to compare machines and loads:
    the figures of this benchmark scale with it."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


# --------------------------------------------------------------------------- environment


def _pg_server(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _prepare_environment(database: str, workdir: Path, pg_url: str) -> str:
    return fresh_database(database, workdir, _pg_server(pg_url), PG_DB)

def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, QueryCounter]:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        elapsed = time.perf_counter() - start
    return result, elapsed, counter


# --------------------------------------------------------------------------- data


def _iban(rng: random.Random) -> str:
    from stdnum import iban

    bban = f"{rng.randint(10_000_000, 99_999_999)}{rng.randint(0, 9_999_999_999):010d}"
    return f"DE{iban.calc_check_digits('DE00' + bban)}{bban}"


def build_ledger(n_customers: int, n_invoices: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """The organisation, its customers and open invoices (bulk_create), learnt payer IBANs."""
    from relance.core.references import make_rf_lenient
    from relance.demo.dataset import generate
    from relance.dunning.services.scenarios import install_default_scenario
    from relance.ledger.models import Customer, CustomerAlias, Invoice, Organisation

    org = Organisation.objects.create(
        slug="bench-bank", legal_name="Bench Banque SAS", siren="552100554", iban=OWN_IBAN, bic="AGRIFRPP",
        sender_name="Bench", sender_email="compta@bench.test")
    install_default_scenario(org)
    data = generate(n_customers, n_invoices, BENCH_DATE, seed=seed)
    Customer.objects.bulk_create([
        Customer(organisation=org, code=c.code, legal_name=c.name, is_business=c.is_business,
                 payment_reference=make_rf_lenient(f"C{c.code}")) for c in data.customers], batch_size=2000)
    ids = dict(Customer.objects.filter(organisation=org).values_list("code", "id"))
    Invoice.objects.bulk_create([
        Invoice(organisation=org, customer_id=ids[i.customer], number=i.number, issue_date=i.issue_date,
                due_date=i.due_date, amount_excl_tax=i.amount_excl_tax, tax_amount=i.tax_amount,
                amount_incl_tax=i.amount_incl_tax, amount_due=i.amount_incl_tax, description=i.description,
                payment_reference=make_rf_lenient(i.number)) for i in data.invoices], batch_size=2000)
    rng = random.Random(seed + 1)
    ibans = {c.code: _iban(rng) for c in data.customers if rng.random() < 0.30}
    CustomerAlias.objects.bulk_create([
        CustomerAlias(organisation=org, customer_id=ids[code], kind=CustomerAlias.Kind.IBAN, value=iban)
        for code, iban in ibans.items()], batch_size=2000)
    return org, {"data": data, "ibans": ibans}


def _variant(number: str, rng: random.Random) -> str:
    """How customers write an invoice number: as is, without dashes, with spaces or slashes."""
    head, year, seq = number.split("-")
    return rng.choice([number, f"{head}{year}{seq}", f"{head} {year} {seq}", f"{head}-{year}/{seq}",
                       number.lower()])


def make_lines(ledger: dict[str, Any], n_lines: int, seed: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Credits paying the invoices the ways customers do (see the module docstring), and debits."""
    from relance.core.references import make_rf_lenient

    rng = random.Random(seed + 2)
    data = ledger["data"]
    ibans: dict[str, str] = ledger["ibans"]
    by_customer: dict[str, list[Any]] = {}
    for inv in sorted(data.invoices, key=lambda i: (i.due_date, i.number)):
        by_customer.setdefault(inv.customer, []).append(inv)
    names = {c.code: c.name for c in data.customers}
    patterns = ["rf", "number", "two", "iban", "customer_rf", "partial", "over", "name"]
    weights = [30, 24, 8, 10, 4, 5, 3, 5]
    lines: list[dict[str, Any]] = []
    mix: dict[str, int] = {p: 0 for p in [*patterns, "unknown", "debit"]}
    days = [BENCH_DATE - timedelta(days=d) for d in range(STATEMENT_DAYS, 0, -1)]
    queue = list(by_customer)
    rng.shuffle(queue)
    n_debits = n_lines // 100
    while len(lines) < n_lines - n_debits and queue:
        code = queue[rng.randrange(len(queue))]
        invoices = by_customer[code]
        if not invoices:
            queue.remove(code)
            continue
        pattern = rng.choices(patterns, weights)[0]
        if pattern == "iban" and code not in ibans:
            pattern = "number"
        if pattern == "two" and len(invoices) < 2:
            pattern = "rf"
        line: dict[str, Any] = {"on": rng.choice(days), "name": names[code].upper(), "iban": "", "text": "", "rf": ""}
        if pattern == "rf":
            inv = invoices.pop(rng.randrange(len(invoices)))
            line.update(amount=inv.amount_incl_tax, rf=make_rf_lenient(inv.number), text="VIREMENT SEPA")
        elif pattern == "number":
            inv = invoices.pop(rng.randrange(len(invoices)))
            line.update(amount=inv.amount_incl_tax, text=f"REGLEMENT FACTURE {_variant(inv.number, rng)}")
        elif pattern == "two":
            a, b = invoices.pop(0), invoices.pop(0)
            line.update(amount=a.amount_incl_tax + b.amount_incl_tax, text=f"FACT {a.number} ET {_variant(b.number, rng)}")
        elif pattern == "iban":
            inv = invoices.pop(rng.randrange(len(invoices)))
            line.update(amount=inv.amount_incl_tax, iban=ibans[code], text="VIREMENT")
        elif pattern == "customer_rf":
            inv = invoices.pop(0)  # the oldest: the amount of the oldest open invoice
            line.update(amount=inv.amount_incl_tax, rf=make_rf_lenient(f"C{code}"))
        elif pattern == "partial":
            inv = invoices.pop(rng.randrange(len(invoices)))
            line.update(amount=(inv.amount_incl_tax * Decimal("0.6")).quantize(Decimal("0.01")),
                        text=f"ACOMPTE {inv.number}")
        elif pattern == "over":
            inv = invoices.pop(rng.randrange(len(invoices)))
            line.update(amount=inv.amount_incl_tax + Decimal("50.00"), text=f"FACTURE {inv.number}")
        else:  # name only: the legal name, the exact amount, nothing else
            inv = invoices.pop(rng.randrange(len(invoices)))
            line.update(amount=inv.amount_incl_tax, name=names[code])
        mix[pattern] += 1
        lines.append(line)
    while len(lines) < n_lines - n_debits:
        mix["unknown"] += 1
        lines.append({"on": rng.choice(days), "name": f"PAYEUR INCONNU {len(lines)}", "iban": "", "rf": "",
                      "text": "REMBOURSEMENT", "amount": Decimal(rng.randint(100, 99_999)) / 100})
    for _ in range(n_debits):
        mix["debit"] += 1
        lines.insert(rng.randrange(len(lines) + 1), {"on": rng.choice(days), "name": "", "iban": "", "rf": "",
                                                     "text": "PRLV SEPA FOURNISSEUR", "debit": True,
                                                     "amount": Decimal(rng.randint(100, 99_999)) / 100})
    lines.sort(key=lambda line: line["on"])
    return lines, mix


def _entry(n: int, line: dict[str, Any]) -> str:
    party = ""
    if line["name"] or line["iban"]:
        party = (f"<RltdPties><Dbtr><Pty><Nm>{escape(line['name'])}</Nm></Pty></Dbtr>"
                 + (f"<DbtrAcct><Id><IBAN>{line['iban']}</IBAN></Id></DbtrAcct>" if line["iban"] else "")
                 + "</RltdPties>")
    rmt = ""
    if line["text"] or line["rf"]:
        rmt = ("<RmtInf>" + (f"<Ustrd>{escape(line['text'])}</Ustrd>" if line["text"] else "")
               + (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{line['rf']}</Ref>"
                  "</CdtrRefInf></Strd>" if line["rf"] else "") + "</RmtInf>")
    day = line["on"].isoformat()
    return (f"<Ntry><Amt Ccy=\"EUR\">{line['amount']:.2f}</Amt><CdtDbtInd>{'DBIT' if line.get('debit') else 'CRDT'}"
            f"</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
            f"<AcctSvcrRef>B{n:09d}</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>E2E{n:09d}</EndToEndId></Refs>"
            f"{party}{rmt}</TxDtls></NtryDtls></Ntry>\n")


def write_statements(lines: list[dict[str, Any]], folder: Path, max_bytes: int) -> list[Path]:
    """camt.053.001.08 files of at most ``max_bytes`` (one statement each)."""
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            "<BkToCstmrStmt><GrpHdr><MsgId>BENCH-{k}</MsgId><CreDtTm>2026-11-23T06:00:00</CreDtTm></GrpHdr><Stmt>"
            "<Id>BENCH-{k}</Id><Acct><Id><IBAN>" + OWN_IBAN + "</IBAN></Id><Ccy>EUR</Ccy></Acct>\n")
    tail = "</Stmt></BkToCstmrStmt></Document>\n"
    chunks: list[list[str]] = [[]]
    size = 0
    for n, line in enumerate(lines, 1):
        entry = _entry(n, line)
        if size + len(entry) > max_bytes - 4096 and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += len(entry.encode())
    paths: list[Path] = []
    for k, chunk in enumerate(chunks, 1):
        path = folder / f"releve-{k:02d}.xml"
        path.write_text(head.format(k=k) + "".join(chunk) + tail, encoding="utf-8")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- worker


def worker(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"relance-bench-bank-{args.worker}-"))
    target = _prepare_environment(args.worker, workdir, args.pg_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from relance.banking.models import BankTransaction
    from relance.banking.services.matching import load_matcher
    from relance.banking.services.review import review_list
    from relance.banking.services.statements import import_statement
    from relance.core.formats.bank import MAX_BYTES, parse_statement
    from relance.core.matching import Outcome, Receipt
    from relance.dunning.models import Reminder
    from relance.ledger.models import Allocation, Invoice, Payment

    out: dict[str, Any] = {"database": args.worker, "target": target, "lines": args.lines,
                           "invoices": args.invoices, "customers": args.customers}
    out["cpu_reference_s"] = cpu_reference_s()
    out["load_average"] = os.getloadavg()[0]
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    out["migrate_s"] = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if connection.vendor == "sqlite" else "show server_version")
        out["server_version"] = cursor.fetchone()[0]

    log(f"{args.worker}: ledger of {args.customers} customers, {args.invoices} open invoices")
    start = time.perf_counter()
    org, ledger = build_ledger(args.customers, args.invoices, args.seed)
    out["setup_ledger_s"] = time.perf_counter() - start
    lines, mix = make_lines(ledger, args.lines, args.seed)
    out["mix"] = mix
    paths = write_statements(lines, workdir, MAX_BYTES)
    out["files"] = [{"name": p.name, "mib": round(p.stat().st_size / 2**20, 1)} for p in paths]
    del ledger, lines
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # reading alone
    log(f"{args.worker}: reading {len(paths)} file(s)")
    start = time.perf_counter()
    parsed = [parse_statement(p, p.name) for p in paths]
    out["parse_s"] = time.perf_counter() - start
    assert all(not r.problems for r in parsed), [r.problems[:3] for r in parsed]
    receipts = [Receipt(n, line.amount, line.booking_date or BENCH_DATE, line.currency, line.counterparty_name,
                        line.counterparty_iban, line.remittance, line.structured_reference, line.end_to_end_id)
                for r in parsed for s in r.statements for n, line in enumerate(s.lines) if line.direction == "credit"]
    del parsed

    # the matcher alone: bulk load, then decisions (nothing written)
    log(f"{args.worker}: matcher alone on {len(receipts)} credits")
    matcher, load_s, load_q = _timed(load_matcher, org)
    start = time.perf_counter()
    decisions = matcher.decide_all(receipts)
    out["matcher"] = {"load_s": load_s, "load_queries": load_q.count, "decide_s": time.perf_counter() - start,
                      "credits": len(receipts),
                      "matched": sum(1 for d in decisions if d.outcome == Outcome.MATCHED),
                      "review": sum(1 for d in decisions if d.outcome == Outcome.REVIEW),
                      "unmatched": sum(1 for d in decisions if d.outcome == Outcome.UNMATCHED)}
    del matcher, decisions, receipts

    # the whole import: the figure the budget is about
    log(f"{args.worker}: import_statement of {len(paths)} file(s)")
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    from relance.events.models import Event

    events_before = Event.objects.filter(organisation=org).count()
    reports = []
    total_s, queries, sql_s = 0.0, 0, 0.0
    summaries: list[list[dict[str, Any]]] = []
    for path in paths:
        report, elapsed, counter = _timed(import_statement, org, path, actor="bench")
        reports.append(report.as_dict())
        total_s += elapsed
        queries += counter.count
        sql_s += counter.seconds
        summaries.append(counter.summary())
    if profiler is not None:
        profiler.disable()
        _print_profile(profiler, workdir / f"{args.worker}-import.prof")
    n_lines = sum(r["lines"] for r in reports)
    out["import"] = {
        "seconds": total_s, "lines_per_s": n_lines / total_s if total_s else None, "queries": queries,
        "queries_per_line": queries / n_lines if n_lines else None, "sql_s": sql_s, "python_s": total_s - sql_s,
        "lines": n_lines, **{k: sum(r[k] for r in reports) for k in
                             ("credits", "matched", "to_review", "unmatched", "duplicates", "debits_ignored")},
        "amount_matched": str(sum(Decimal(str(r["amount_matched"])) for r in reports)),
        "sql": summaries[0] if len(summaries) == 1 else summaries,
    }
    out["rss_after_import_mib"] = peak_rss_mib()

    # consistency: what the database says
    out["check"] = {
        "payments": Payment.objects.filter(organisation=org).count(),
        "allocations": Allocation.objects.filter(organisation=org).count(),
        "invoices_paid": Invoice.objects.filter(organisation=org, status=Invoice.Status.PAID).count(),
        "invoices_open": Invoice.objects.filter(organisation=org, status=Invoice.Status.OPEN).count(),
        "lines_stored": BankTransaction.objects.filter(organisation=org).count(),
        "reminders_cancelled": Reminder.objects.filter(organisation=org, status=Reminder.Status.CANCELLED).count(),
        "events": Event.objects.filter(organisation=org).count() - events_before,
    }
    assert out["check"]["payments"] == out["import"]["matched"]

    # the same file again, then an overlapping statement (its first 1 000 entries + 100 new)
    _, again_s, again_q = _timed(import_statement, org, paths[0], actor="bench")
    out["again"] = {"seconds": again_s, "queries": again_q.count}
    overlap = _overlapping(paths[0], workdir / "chevauchement.xml")
    report, overlap_s, overlap_q = _timed(import_statement, org, overlap, actor="bench")
    out["overlap"] = {"seconds": overlap_s, "queries": overlap_q.count, "duplicates": report.duplicates,
                      "new": report.credits - report.duplicates}

    # the review list (the web page shows the 200 oldest)
    items, review_s, review_q = _timed(review_list, org, limit=200)
    out["review_200"] = {"seconds": review_s, "queries": review_q.count, "items": len(items)}
    items, review_all_s, review_all_q = _timed(review_list, org)
    out["review_all"] = {"seconds": review_all_s, "queries": review_all_q.count, "items": len(items)}

    out["cpu_reference_after_s"] = cpu_reference_s()
    out["budget_ok"] = total_s <= BUDGET_S
    out["queries_ok"] = (out["import"]["queries_per_line"] or 0) <= MAX_QUERIES_PER_LINE
    if args.worker == "sqlite":
        out["database_size_mib"] = Path(target).stat().st_size / 2**20
    else:
        with connection.cursor() as cursor:
            cursor.execute("select pg_database_size(current_database())")
            out["database_size_mib"] = cursor.fetchone()[0] / 2**20
    out["rss_peak_mib"] = peak_rss_mib()
    connection.close()
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        out["workdir"] = str(workdir)
    return out


def _overlapping(source: Path, target: Path) -> Path:
    """A statement repeating the first 1 000 entries of ``source`` (other file, same lines) with 100 new ones."""
    text = source.read_text(encoding="utf-8")
    head, rest = text.split("<Ntry>", 1)
    entries = ("<Ntry>" + rest).split("\n")
    kept = [e for e in entries if e.startswith("<Ntry>")][:1000]
    new = [e.replace("<EndToEndId>E2E", "<EndToEndId>NEW").replace("<AcctSvcrRef>B", "<AcctSvcrRef>N")
           for e in kept[:100]]
    head = head.replace("BENCH-1<", "BENCH-OVERLAP<")
    target.write_text(head + "\n".join(kept + new) + "\n</Stmt></BkToCstmrStmt></Document>\n", encoding="utf-8")
    return target


def _print_profile(profiler: Any, path: Path) -> None:
    import io
    import pstats

    profiler.dump_stats(path)
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    log(f"profile of the import, saved to {path}:\n{buf.getvalue()}")


# --------------------------------------------------------------------------- driver


def _s(value: float) -> str:
    if value >= 0.1:
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


def render(results: list[dict[str, Any]]) -> str:
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, fn: Any) -> None:
        values = []
        for r in results:
            try:
                values.append(str(fn(r)))
            except (KeyError, TypeError, ZeroDivisionError):
                values.append("—")
        rows.append((label, values))

    add("server version", lambda r: str(r["server_version"]).split()[0])
    add("CPU reference (10M additions) before/after", lambda r: f"{r['cpu_reference_s']:.1f} / "
                                                               f"{r['cpu_reference_after_s']:.1f} s")
    add("load average at start", lambda r: f"{r['load_average']:.1f}")
    add("lines / open invoices / customers", lambda r: f"{r['lines']} / {r['invoices']} / {r['customers']}")
    add("statement files", lambda r: ", ".join(f"{f['mib']} MiB" for f in r["files"]))
    add("set-up (ledger, bulk_create)", lambda r: _s(r["setup_ledger_s"]))
    add("reading the files alone", lambda r: _s(r["parse_s"]))
    add("matcher alone: bulk load", lambda r: f"{_s(r['matcher']['load_s'])} ({r['matcher']['load_queries']} queries)")
    add("matcher alone: decisions", lambda r: _s(r["matcher"]["decide_s"]))
    add("IMPORT (read, match, write)", lambda r: _s(r["import"]["seconds"]))
    add(f"  budget <= {BUDGET_S:g} s", lambda r: "met" if r["budget_ok"] else "NOT met")
    add("  lines per second", lambda r: f"{r['import']['lines_per_s']:,.0f}")
    add("  time in SQL / in Python", lambda r: f"{_s(r['import']['sql_s'])} / {_s(r['import']['python_s'])}")
    add("  queries (per line)", lambda r: f"{r['import']['queries']} ({r['import']['queries_per_line']:.4f})")
    add("  matched / to review / unmatched", lambda r: f"{r['import']['matched']} / {r['import']['to_review']} / "
                                                       f"{r['import']['unmatched']}")
    add("  debits ignored", lambda r: r["import"]["debits_ignored"])
    add("  invoices paid / still open", lambda r: f"{r['check']['invoices_paid']} / {r['check']['invoices_open']}")
    add("  allocations / events written", lambda r: f"{r['check']['allocations']} / {r['check']['events']}")
    add("same file again", lambda r: f"{_s(r['again']['seconds'])} ({r['again']['queries']} queries)")
    add("overlapping statement (1 000 + 100)", lambda r: f"{_s(r['overlap']['seconds'])}, "
                                                         f"{r['overlap']['duplicates']} duplicates")
    add("review list, 200 oldest", lambda r: f"{_s(r['review_200']['seconds'])} ({r['review_200']['queries']} q.)")
    add("review list, all", lambda r: f"{_s(r['review_all']['seconds'])} for {r['review_all']['items']}")
    add("database size", lambda r: f"{r['database_size_mib']:.0f} MiB")
    add("peak RSS", lambda r: f"{r['rss_peak_mib']:.0f} MiB")
    add("wall time of the worker", lambda r: _s(r["wall_s"]))
    header = f"{'':<40}" + "".join(f"{r['database']:>28}" for r in results)
    body = [f"{label:<40}" + "".join(f"{v:>28}" for v in values) for label, values in rows]
    return "\n".join([header, "-" * len(header), *body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"],
                        help="default: sqlite, and postgres too when DATABASE_URL is set")
    parser.add_argument("--pg-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server (its database name is replaced by relance_bench_bank)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the import (to stderr)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (statements, SQLite file)")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args), default=str))
        return 0
    databases = {"sqlite": ["sqlite"], "postgres": ["postgres"], "both": ["sqlite", "postgres"]}.get(
        args.database or "", ["sqlite", "postgres"] if os.environ.get("DATABASE_URL") else ["sqlite"])
    results = []
    for database in databases:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", database, "--lines", str(args.lines),
               "--invoices", str(args.invoices), "--customers", str(args.customers), "--seed", str(args.seed),
               "--pg-url", args.pg_url]
        cmd += ["--profile"] if args.profile else []
        cmd += ["--keep"] if args.keep else []
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        log(f"{database}: starting")
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False, env=env)
        if proc.returncode != 0:
            log(f"{database}: failed (exit code {proc.returncode})")
            return proc.returncode
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - start
        results.append(result)
        log(f"{database}: done in {result['wall_s']:.0f} s")
    if args.json:
        print(json.dumps({"bench_date": BENCH_DATE.isoformat(), "budget_s": BUDGET_S, "python": sys.version.split()[0],
                          "results": results}, indent=2, default=str))
    else:
        print(render(results))
    failed = [r for r in results if not (r["budget_ok"] and r["queries_ok"])]
    for r in failed:
        log(f"FAILED ({r['database']}): import {r['import']['seconds']:.1f} s (budget {BUDGET_S:g} s), "
            f"{r['import']['queries_per_line']:.4f} queries per line (at most {MAX_QUERIES_PER_LINE:.3f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
