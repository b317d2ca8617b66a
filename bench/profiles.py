"""Benchmark: payer profiles for 10 000 customers and 100 000 invoices.

    .venv/bin/python bench/profiles.py [--customers 10000] [--invoices 100000] [--database-url URL] [--json]

Builds an organisation with a year and a half of invoices (paid on time, late, or still open,
with the reminders they needed), then times ``assign_profiles``: the first run (every customer
gets a profile: one ``profile.changed`` event each), the steady state (a run the next day:
nothing changes) and a run after a tenth of the customers changed behaviour. Each run prints
its duration and query count; the query count must not depend on the number of customers
beyond the chunked writes (500 ids per statement).

Without ``--database-url``, a fresh SQLite file in a temporary directory is used. With one,
everything is written inside a transaction rolled back at the end: the database is left as it was
(its migrations must be applied).

This is a benchmark, not a test: speed is measured here, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

DAY = date(2026, 11, 23)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _setup(database_url: str | None, workdir: Path) -> None:
    os.environ["RELANCE_DATA_DIR"] = str(workdir / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["RELANCE_SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    import django

    django.setup()
    if not database_url:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def _populate(customers: int, invoices: int, seed: int = 5) -> Any:
    from relance.dunning.models import Reminder, ReminderLine, Scenario
    from relance.ledger.models import Customer, Invoice, Organisation
    from relance.profiles.services import install_default_profiles

    rng = random.Random(seed)
    org = Organisation.objects.create(slug=f"bench-profiles-{seed}", legal_name="Banc d’essai profils SAS")
    install_default_profiles(org)
    step = Scenario.objects.get(organisation=org, is_default=True).steps.get(position=1)
    Customer.objects.bulk_create([
        Customer(organisation=org, code=f"C{i:06d}", legal_name=f"Client {i}", is_business=i % 7 != 0)
        for i in range(customers)
    ], batch_size=2000)
    ids = list(Customer.objects.filter(organisation=org).order_by("pk").values_list("pk", flat=True))
    habit = {cid: rng.choice((0, 0, 0, 5, 15, 40)) for cid in ids}  # typical days late per customer
    rows: list[Invoice] = []
    reminded: list[tuple[int, int, date]] = []  # (invoice index, customer, planned_for)
    for n in range(invoices):
        cid = ids[n % len(ids)]
        due = DAY - timedelta(days=rng.randint(-30, 480))
        amount = Decimal(rng.randint(5_000, 500_000)) / 100
        late = max(0, int(rng.gauss(habit[cid], 4)))
        settled = due + timedelta(days=late) if due + timedelta(days=late) < DAY and rng.random() < 0.9 else None
        rows.append(Invoice(organisation=org, customer_id=cid, number=f"B{n:07d}", issue_date=due - timedelta(days=30),
                            due_date=due, amount_incl_tax=amount, amount_due=Decimal(0) if settled else amount,
                            status=Invoice.Status.PAID if settled else Invoice.Status.OPEN, settled_on=settled))
        if late > 7:
            reminded.append((n, cid, due + timedelta(days=7)))
    Invoice.objects.bulk_create(rows, batch_size=2000)
    reminders = Reminder.objects.bulk_create([
        Reminder(organisation=org, customer_id=cid, step=step, channel=step.channel, planned_for=planned,
                 idempotency_key=f"bench-{seed}-{n}", status=Reminder.Status.SENT)
        for n, cid, planned in reminded
    ], batch_size=2000)
    ReminderLine.objects.bulk_create([
        ReminderLine(reminder=r, invoice=rows[n], step_position=1) for r, (n, _, _) in zip(reminders, reminded, strict=True)
    ], batch_size=2000)
    return org, len(reminded)


def _timed(label: str, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        report = fn(*args, **kwargs)
        seconds = time.perf_counter() - start
    log(f"{label}: {seconds:.2f} s, {len(ctx.captured_queries)} requêtes, {report.changed} changements")
    if os.environ.get("BENCH_SLOW"):  # the slowest statements
        for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:5]:
            log(f"   {q['time']} s  {q['sql'][:160]}")
    return {"run": label, "seconds": round(seconds, 3), "queries": len(ctx.captured_queries),
            "changed": report.changed, "by_profile": report.by_profile}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("RELANCE_BENCH_DATABASE_URL"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="relance-bench-profiles-") as tmp:
        _setup(args.database_url, Path(tmp))
        from django.db import connection, transaction

        from relance.ledger.models import Customer, Invoice
        from relance.profiles.services import assign_profiles

        results: list[dict[str, Any]] = []
        with transaction.atomic():
            start = time.perf_counter()
            org, n_reminders = _populate(args.customers, args.invoices)
            with connection.cursor() as cursor:  # statistics, as a live database would have them
                cursor.execute("ANALYZE")
            log(f"données : {args.customers} clients, {args.invoices} factures, {n_reminders} relances "
                f"({time.perf_counter() - start:.1f} s, {connection.vendor})")
            results.append(_timed("premier passage", assign_profiles, org, DAY))
            results.append(_timed("lendemain", assign_profiles, org, DAY + timedelta(days=1)))
            changed = list(Customer.objects.filter(organisation=org).order_by("pk").values_list("pk", flat=True)[::10])
            Invoice.objects.filter(customer_id__in=changed, status=Invoice.Status.PAID).update(
                settled_on=None, status=Invoice.Status.OPEN, amount_due=1)
            results.append(_timed("un client sur dix change", assign_profiles, org, DAY + timedelta(days=1)))
            transaction.set_rollback(True)
        summary = {"database": connection.vendor, "customers": args.customers, "invoices": args.invoices,
                   "runs": results}
        if args.json:
            print(json.dumps(summary, ensure_ascii=False))
        else:
            for r in results:
                print(f"{r['run']:<26} {r['seconds']:>7.2f} s {r['queries']:>6} requêtes {r['changed']:>7} changements")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main())
