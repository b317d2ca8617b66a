"""Benchmark: CSV import and daily planning on 100 000 open invoices.

    .venv/bin/python bench/planning.py [--invoices 100000] [--customers 10000]
                                       [--database sqlite|postgres|both] [--json] [--profile]

Each database runs in its own subprocess (clean settings): a fresh SQLite file in a
temporary directory, or a PostgreSQL database ``relance_bench`` dropped and recreated.
For each one: migrations, a realistic data set (``relance.demo.dataset``; every invoice
is kept open: the generated payments and credit notes are ignored), the import of the
CSV files, the first planning run on 2026-11-23 (it schedules every invoice and plans
the day), then the daily job on each of the next ``--days`` business days, the previous
day's reminders being marked sent first (what the dispatcher would have done). The
first of those days is the steady-state day. Each day is compared with its "floor": one
raw SQL query selecting the ids of the invoices due that day (median of 5 runs).

The query count of each day comes from ``CaptureQueriesContext`` around a dry run (the
same work, rolled back); the same scenario on a tenth of the data (another organisation,
measured afterwards) checks that the count does not grow with the number of due
invoices. The script exits with status 1, after printing its figures, when it does.

``--planner MODULE`` measures another module's ``plan_day`` (a candidate implementation
on ``PYTHONPATH``) with everything else unchanged.

This is a benchmark, not a test: speed is measured here, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from _common import QueryCounter, fresh_database, log, peak_rss_mib

BENCH_DATE = date(2026, 11, 23)  # a Monday
HISTORY_DAYS = 200
TARGET_RATIO = 5.0
PG_BASE_URL = "postgres://postgres@127.0.0.1:5432"
PG_DB = "relance_bench"
FLOOR_SQL = (
    "SELECT id FROM ledger_invoice WHERE status = 'open' AND dunning_state = 'active' "
    "AND next_action_date <= %s AND organisation_id = %s"
)


#: the module whose ``plan_day`` is measured (``--planner``: to compare a candidate implementation)
PLANNER = "relance.dunning.services.planner"
#: "no query per invoice": ten times more due invoices may only add batched statements
#: (chunks of 500 ids, INSERT batches of at most 999 parameters on SQLite)
EXTRA_QUERIES_PER_DUE_INVOICE = 1 / 50
#: one message per customer and step (issue #10) plans up to one reminder per due invoice: its
#: INSERT is batched too, at most 999 parameters on SQLite, about 28 rows of the reminder table
EXTRA_QUERIES_PER_REMINDER = 1 / 25
PATH_SLACK = 30  # a day with reminders runs more (constant) statements than a day without


def _planner() -> Any:
    import importlib

    return importlib.import_module(PLANNER)


# --------------------------------------------------------------------------- worker


def _prepare_environment(database: str, workdir: Path, pg_base_url: str) -> str:
    return fresh_database(database, workdir, pg_base_url, PG_DB)

def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, QueryCounter]:
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        elapsed = time.perf_counter() - start
    return result, elapsed, counter


def _floor(org_id: int, day: date, runs: int = 5) -> tuple[float, int, list[float]]:
    from django.db import connection

    times, rows = [], 0
    with connection.cursor() as cursor:
        for _ in range(runs):
            start = time.perf_counter()
            cursor.execute(FLOOR_SQL, [day, org_id])
            rows = len(cursor.fetchall())
            times.append(time.perf_counter() - start)
    return statistics.median(times), rows, times


def _make_org(slug: str) -> Any:
    from relance.dunning.services.scenarios import install_default_scenario
    from relance.ledger.models import Organisation

    org = Organisation.objects.create(
        slug=slug, legal_name=f"Bench {slug} SAS", legal_form="SAS au capital de 10 000 €", siren="552100554",
        address1="5 place Bellecour", postal_code="69002", city="Lyon", iban="FR7630006000011234567890189",
        bic="AGRIFRPP", sender_name="Bench — Comptabilité", sender_email="compta@bench.test",
        reply_to_email="recouvrement@bench.test", signature_name="Sophie Laurent",
        signature_title="Responsable comptable",
    )
    install_default_scenario(org)
    return org


def _analyze(database: str) -> None:
    """PostgreSQL: refresh planner statistics, as autovacuum would between an import and the next daily job."""
    if database != "postgres":
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def run_scenario(database: str, slug: str, n_customers: int, n_invoices: int, seed: int, workdir: Path,
                 n_days: int, profile: bool = False, profile_import: bool = False) -> dict[str, Any]:
    from relance.demo.dataset import generate, write_contacts_csv, write_customers_csv, write_invoices_csv
    from relance.dunning.models import ReminderLine
    from relance.ledger.business_calendar import calendar_for
    plan_day = _planner().plan_day
    from relance.ledger.models import Customer, Invoice
    from relance.ledger.services.imports import import_file

    out: dict[str, Any] = {"customers": n_customers, "invoices": n_invoices}
    org = _make_org(slug)

    log(f"{slug}: generating {n_customers} customers, {n_invoices} invoices")
    start = time.perf_counter()
    data = generate(n_customers, n_invoices, BENCH_DATE, seed=seed, history_days=HISTORY_DAYS)
    out["generate_s"] = time.perf_counter() - start
    files = workdir / slug
    files.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    customers_csv = write_customers_csv(files / "clients.csv", data.customers)
    contacts_csv = write_contacts_csv(files / "contacts.csv", data.customers)
    # every invoice stays open: the generated payments and credit notes are not written
    invoices_csv = write_invoices_csv(files / "factures.csv", data.invoices)
    out["write_csv_s"] = time.perf_counter() - start
    n_contacts = sum(len(c.contacts) - 1 for c in data.customers)
    del data

    for name, path, rows in (("customers", customers_csv, n_customers), ("contacts", contacts_csv, n_contacts),
                             ("invoices", invoices_csv, n_invoices)):
        log(f"{slug}: importing {name} ({rows} rows)")
        if profile_import and name == "invoices":
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        report, elapsed, queries = _timed(import_file, org, path)
        if profile_import and name == "invoices":
            profiler.disable()
            _print_profile(profiler, workdir / f"{database}-{slug}-import.prof", f"the import of {rows} invoices")
        out[f"import_{name}"] = {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed if elapsed else None,
                                 "queries": queries.count, "sql_s": queries.seconds, "sql": queries.summary(),
                                 "counts": dict(report.counts)}
    out["rss_after_import_mib"] = peak_rss_mib()
    open_count = Invoice.objects.filter(organisation=org, status=Invoice.Status.OPEN).count()
    assert open_count == n_invoices, f"{open_count} open invoices, expected {n_invoices}"
    assert Customer.objects.filter(organisation=org).count() == n_customers
    _analyze(database)

    # ---- first planning run: schedules every invoice, then plans the day
    log(f"{slug}: first planning run on {BENCH_DATE}")
    report, elapsed, queries = _timed(plan_day, org, BENCH_DATE)
    out["first_run"] = {
        "date": BENCH_DATE.isoformat(), "seconds": elapsed, "queries": queries.count, "sql_s": queries.seconds,
        "sql": queries.summary(), "scheduled": report.scheduled,
        "reminders": len(report.reminders),
        "reminder_lines": ReminderLine.objects.filter(reminder__organisation=org).count(),
    }
    out["rss_after_first_run_mib"] = peak_rss_mib()
    del report

    out["first_run"]["marked_sent"] = _mark_sent(database, org)

    # ---- steady state: the following business days, each after the previous day's reminders were sent
    calendar = calendar_for(org)
    day, days = BENCH_DATE, []
    for _ in range(n_days):
        day = calendar.on_or_after(day + timedelta(days=1))
        log(f"{slug}: planning run on {day}")
        days.append(_measure_day(database, org, day, workdir / f"{database}-{slug}-{day}.prof" if profile else None))
    out["days"] = days
    out["steady_state"] = days[0]
    out["heaviest_day"] = max(days, key=lambda d: d["due_invoices"])
    out["rss_peak_mib"] = peak_rss_mib()
    return out


def _mark_sent(database: str, org: Any) -> int:
    """The dispatcher sends the day's reminders (simulated: the status changes, and the invoices
    receive their step as ``dispatcher`` records it, ``escalation.record_received``; no message is
    rendered). Not timed: it prepares the next day."""
    from django.db import transaction

    from relance.dunning.models import Reminder
    from relance.dunning.services.escalation import record_received
    from relance.dunning.services.scenario_book import ScenarioBook
    from relance.ledger.models import Invoice

    book = ScenarioBook.load(org)
    planned = list(Reminder.objects.filter(organisation=org, status=Reminder.Status.PLANNED)
                   .select_related("step", "customer").prefetch_related("lines"))
    invoices = Invoice.objects.in_bulk([line.invoice_id for r in planned for line in r.lines.all()])
    with transaction.atomic():
        for reminder in planned:
            record_received(org, reminder, [invoices[line.invoice_id] for line in reminder.lines.all()],
                            reminder.planned_for, book=book)
        sent = Reminder.objects.filter(pk__in=[r.pk for r in planned]).update(status=Reminder.Status.SENT, attempts=1)
    _analyze(database)
    return sent


def _measure_day(database: str, org: Any, day: date, profile_path: Path | None) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plan_day = _planner().plan_day

    floor_s, due, floor_runs = _floor(org.id, day)
    # the query count as the design asks for it: a dry run (the same work, rolled back) under
    # CaptureQueriesContext, whose log is widened (Django keeps only the last 9 000 queries)
    connection.queries_log = deque(maxlen=10**6)
    with CaptureQueriesContext(connection) as ctx:
        dry = plan_day(org, day, dry_run=True)
    captured = ctx.captured_queries
    if profile_path:
        _profile(org, day, profile_path)
    report, elapsed, queries = _timed(plan_day, org, day)
    assert len(report.reminders) == len(dry.reminders)
    return {
        "date": day.isoformat(), "seconds": elapsed, "queries": queries.count, "queries_captured": len(captured),
        "sql_s": queries.seconds, "python_s": elapsed - queries.seconds, "sql": queries.summary(),
        "due_invoices": due, "floor_median_s": floor_s, "floor_runs_s": floor_runs,
        "ratio_to_floor": elapsed / floor_s if floor_s else None,
        "scheduled": report.scheduled, "reminders": len(report.reminders),
        "invoices_listed": sum(len(r.invoices) for r in report.reminders),
        "marked_sent": _mark_sent(database, org),
    }


def _profile(org: Any, day: date, path: Path) -> None:
    import cProfile

    plan_day = _planner().plan_day
    profiler = cProfile.Profile()
    profiler.enable()
    plan_day(org, day, dry_run=True)
    profiler.disable()
    _print_profile(profiler, path, f"a dry run of {day}", r"\(_plan\)")


def _print_profile(profiler: Any, path: Path, what: str, callees: str | None = None) -> None:
    import io
    import pstats

    profiler.dump_stats(path)
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)
    if callees:
        stats.print_callees(callees)
    log(f"profile of {what}, saved to {path}:\n{buf.getvalue()}")


def worker(args: argparse.Namespace) -> dict[str, Any]:
    global PLANNER
    PLANNER = args.planner
    workdir = Path(tempfile.mkdtemp(prefix=f"relance-bench-{args.worker}-"))
    target = _prepare_environment(args.worker, workdir, args.pg_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    result: dict[str, Any] = {"database": args.worker, "target": target, "planner": PLANNER,
                              "migrate_s": time.perf_counter() - start}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("show server_version")
        result["server_version"] = cursor.fetchone()[0]

    result["full"] = run_scenario(args.worker, "bench", args.customers, args.invoices, args.seed, workdir,
                                  args.days, args.profile)
    if args.scale_check:
        # the same on a tenth of the data (another organisation, measured after the full run):
        # the steady-state day must not issue more queries because more invoices are due
        small = run_scenario(args.worker, "bench-small", max(args.customers // 10, 1), max(args.invoices // 10, 1),
                             args.seed, workdir, args.days, profile_import=args.profile)
        result["small"] = small
        result["queries_scale"] = []
        for d_small, d_full in zip(small["days"], result["full"]["days"], strict=True):
            extra_due = max(d_full["due_invoices"] - d_small["due_invoices"], 0)
            extra_reminders = max(d_full["reminders"] - d_small["reminders"], 0)
            allowance = int(d_small["queries"] + PATH_SLACK + extra_due * EXTRA_QUERIES_PER_DUE_INVOICE
                            + extra_reminders * EXTRA_QUERIES_PER_REMINDER)
            result["queries_scale"].append({
                "date": d_full["date"], "small": {"due": d_small["due_invoices"], "queries": d_small["queries"]},
                "full": {"due": d_full["due_invoices"], "queries": d_full["queries"]}, "allowance": allowance,
                "ok": d_full["queries"] <= allowance,
            })
        result["queries_scale_ok"] = all(q["ok"] for q in result["queries_scale"])
    if args.worker == "sqlite":
        result["database_size_mib"] = Path(target).stat().st_size / 2**20
    else:
        with connection.cursor() as cursor:
            cursor.execute("select pg_database_size(current_database())")
            result["database_size_mib"] = cursor.fetchone()[0] / 2**20
    result["rss_peak_mib"] = peak_rss_mib()
    connection.close()
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return result


# --------------------------------------------------------------------------- driver


def _row(label: str, values: list[str]) -> str:
    return f"{label:<40}" + "".join(f"{v:>24}" for v in values)


def _s(value: float) -> str:
    if value >= 0.1:
        return f"{value:.3f} s"
    return f"{value * 1000:.2f} ms" if value >= 0.001 else f"{value * 1e6:.0f} µs"


def render(results: list[dict[str, Any]]) -> str:
    lines = [_row("", [r["database"] for r in results]), "-" * (40 + 24 * len(results))]

    def add(label: str, fn: Any) -> None:
        values = []
        for r in results:
            try:
                values.append(fn(r))
            except (KeyError, TypeError):
                values.append("—")
        lines.append(_row(label, values))

    add("server version", lambda r: str(r["server_version"]).split()[0])
    add("invoices (all open) / customers", lambda r: f"{r['full']['invoices']} / {r['full']['customers']}")
    add("generate data set", lambda r: _s(r["full"]["generate_s"]))
    add("write CSV files", lambda r: _s(r["full"]["write_csv_s"]))
    for name in ("customers", "contacts", "invoices"):
        add(f"import {name}", lambda r, n=name: _s(r["full"][f"import_{n}"]["seconds"]))
        add(f"  {name} rows/s", lambda r, n=name: f"{r['full'][f'import_{n}']['rows_per_s']:,.0f}")
    add("first run plan_day (schedules all)", lambda r: _s(r["full"]["first_run"]["seconds"]))
    add("  invoices scheduled", lambda r: str(r["full"]["first_run"]["scheduled"]))
    add("  reminders / lines", lambda r: f"{r['full']['first_run']['reminders']} / "
                                           f"{r['full']['first_run']['reminder_lines']}")
    add("  queries", lambda r: str(r["full"]["first_run"]["queries"]))
    add("steady-state day (next business day)", lambda r: r["full"]["steady_state"]["date"])
    add("  invoices due that day (floor rows)", lambda r: str(r["full"]["steady_state"]["due_invoices"]))
    add("  reminders planned", lambda r: str(r["full"]["steady_state"]["reminders"]))
    add("  plan_day", lambda r: _s(r["full"]["steady_state"]["seconds"]))
    add("  SQL queries (CaptureQueriesContext)", lambda r: str(r["full"]["steady_state"]["queries_captured"]))
    add("  time in SQL / in Python", lambda r: f"{_s(r['full']['steady_state']['sql_s'])} / "
                                                 f"{_s(r['full']['steady_state']['python_s'])}")
    add("  floor: 1 raw query (median of 5)", lambda r: _s(r["full"]["steady_state"]["floor_median_s"]))
    add("  ratio plan_day / floor", lambda r: f"{r['full']['steady_state']['ratio_to_floor']:.1f} x")
    add(f"  target <= {TARGET_RATIO:g} x", lambda r: _met(r["full"]["steady_state"]))
    add("heaviest day of the week", lambda r: r["full"]["heaviest_day"]["date"])
    add("  invoices due that day (floor rows)", lambda r: str(r["full"]["heaviest_day"]["due_invoices"]))
    add("  reminders planned", lambda r: str(r["full"]["heaviest_day"]["reminders"]))
    add("  plan_day", lambda r: _s(r["full"]["heaviest_day"]["seconds"]))
    add("  SQL queries (CaptureQueriesContext)", lambda r: str(r["full"]["heaviest_day"]["queries_captured"]))
    add("  time in SQL / in Python", lambda r: f"{_s(r['full']['heaviest_day']['sql_s'])} / "
                                                 f"{_s(r['full']['heaviest_day']['python_s'])}")
    add("  floor: 1 raw query (median of 5)", lambda r: _s(r["full"]["heaviest_day"]["floor_median_s"]))
    add("  ratio plan_day / floor", lambda r: f"{r['full']['heaviest_day']['ratio_to_floor']:.1f} x")
    add(f"  target <= {TARGET_RATIO:g} x", lambda r: _met(r["full"]["heaviest_day"]))
    add("queries do not grow with due invoices", lambda r: "yes" if r["queries_scale_ok"] else "NO (see below)")
    add("database size", lambda r: f"{r['database_size_mib']:.0f} MiB")
    add("peak RSS (ru_maxrss)", lambda r: f"{r['rss_peak_mib']:.0f} MiB")
    add("total wall time (both scales)", lambda r: _s(r["wall_s"]))
    for r in results:
        lines += ["", f"{r['database']}: daily planning after the first run "
                      f"({r['full']['invoices']} invoices; in brackets: the 1/10 scale run)",
                  f"{'day':<12}{'due':>16}{'reminders':>14}{'plan_day':>12}{'queries':>15}{'in SQL':>11}"
                  f"{'floor':>11}{'ratio':>9}"]
        small = r.get("small", {}).get("days") or [None] * len(r["full"]["days"])
        for d, sm in zip(r["full"]["days"], small, strict=True):
            lines.append(f"{d['date']:<12}{_pair(d['due_invoices'], sm and sm['due_invoices']):>16}"
                         f"{_pair(d['reminders'], sm and sm['reminders']):>14}{_s(d['seconds']):>12}"
                         f"{_pair(d['queries'], sm and sm['queries']):>15}{_s(d['sql_s']):>11}"
                         f"{_s(d['floor_median_s']):>11}{d['ratio_to_floor']:>8.1f}x")
    return "\n".join(lines)


def _pair(full: int, small: int | None) -> str:
    return f"{full}" if small is None else f"{full} ({small})"


def _met(day: dict[str, Any]) -> str:
    return "met" if day["ratio_to_floor"] <= TARGET_RATIO else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-url", default=os.environ.get("RELANCE_BENCH_PG_URL", PG_BASE_URL),
                        help="PostgreSQL server URL without database name (default %(default)s)")
    parser.add_argument("--no-scale-check", dest="scale_check", action="store_false",
                        help="skip the 1/10 scale run that checks the query count does not grow")
    parser.add_argument("--days", type=int, default=5, help="business days planned after the first run (default 5)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile (to stderr) a dry run of each planning day and the 1/10 scale invoice import")
    parser.add_argument("--planner", default=PLANNER, help="module whose plan_day is measured (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (CSV, SQLite file)")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args), default=str))
        return 0

    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = []
    for database in databases:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", database, "--invoices", str(args.invoices),
               "--customers", str(args.customers), "--seed", str(args.seed), "--pg-url", args.pg_url,
               "--days", str(args.days), "--planner", args.planner]
        cmd += [] if args.scale_check else ["--no-scale-check"]
        cmd += ["--profile"] if args.profile else []
        cmd += ["--keep"] if args.keep else []
        log(f"{database}: starting")
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0:
            log(f"{database}: failed (exit code {proc.returncode})")
            return proc.returncode
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - start
        results.append(result)
        log(f"{database}: done in {result['wall_s']:.0f} s")

    if args.json:
        print(json.dumps({"bench_date": BENCH_DATE.isoformat(), "target_ratio": TARGET_RATIO,
                          "python": sys.version.split()[0], "results": results}, indent=2))
    else:
        print(render(results))
    # the assertion of the design: the daily planning issues no query per invoice
    failed = [(r["database"], q) for r in results for q in r.get("queries_scale", []) if not q["ok"]]
    for database, q in failed:
        log(f"ASSERTION FAILED ({database}, {q['date']}): planning queries grow with the due invoices: "
            f"{q['small']['queries']} queries for {q['small']['due']} due, {q['full']['queries']} for "
            f"{q['full']['due']} due (allowed: {q['allowance']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
