"""Benchmark: import of one CSV of 1 000 000 invoices (issue 11: a file of 250 000 or more
used to fail with one ``IN (…)`` list naming every invoice number).

    .venv/bin/python bench/csv_import.py [--invoices 1000000] [--customers 10000]
                                         [--database sqlite|postgres|both|auto] [--json] [--keep]

The customers (a CSV with their kind) are imported first, then the invoices CSV (seed fixed,
« Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé »), timed, with the peak RSS
of the process (``ru_maxrss``); then the same invoices file again (recognised: nothing
done). Each database runs in its own subprocess (clean settings): a fresh SQLite file in a
temporary directory, or the PostgreSQL database ``relance_csv_bench`` dropped and recreated
on ``--pg-url``. ``auto`` (the default) runs SQLite, and PostgreSQL too when ``DATABASE_URL``
is set.

This is a benchmark, not a test: speed is measured here, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from _common import fresh_database, log, peak_rss_mib

SEED = 2026
START = date(2026, 1, 1)


def write_files(folder: Path, invoices: int, customers: int) -> tuple[Path, Path]:
    rng = random.Random(SEED)
    clients = folder / "clients.csv"
    with clients.open("w", encoding="utf-8") as out:
        out.write("Code client;Raison sociale;Type;SIREN\n")
        for i in range(customers):
            out.write(f"C{i:06d};Client {i} SARL;{'particulier' if i % 10 == 0 else 'entreprise'};\n")
    factures = folder / "factures.csv"
    with factures.open("w", encoding="utf-8") as out:
        out.write("Numéro facture;Code client;Date;Échéance;Montant TTC;Libellé\n")
        for i in range(invoices):
            issued = START + timedelta(days=rng.randrange(300))
            cents = rng.randrange(1_000, 2_000_000)
            out.write(f"F{i:08d};C{rng.randrange(customers):06d};{issued:%d/%m/%Y};"
                      f"{issued + timedelta(days=30):%d/%m/%Y};{cents // 100},{cents % 100:02d};Prestation {i}\n")
    return clients, factures


def worker(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir)
    where = fresh_database(args.database, workdir, args.pg_url, "relance_csv_bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from relance.ledger.models import Invoice, Organisation
    from relance.ledger.services.imports import import_file

    org = Organisation.objects.create(slug="bench", legal_name="Bench SAS", siren="552100554")
    log(f"{args.database}: writing {args.invoices} invoices for {args.customers} customers")
    clients, factures = write_files(workdir, args.invoices, args.customers)
    size_mib = factures.stat().st_size / 1_048_576
    import_file(org, clients)
    rss_before = peak_rss_mib()
    log(f"{args.database}: importing {factures.name} ({size_mib:.1f} MiB)")
    started = time.perf_counter()
    report = import_file(org, factures)
    seconds = time.perf_counter() - started
    count = Invoice.objects.filter(organisation=org).count()
    again = time.perf_counter()
    assert import_file(org, factures).already_imported
    return {
        "database": args.database, "where": where, "invoices": args.invoices, "customers": args.customers,
        "file_mib": round(size_mib, 1), "seconds": round(seconds, 1), "invoices_in_db": count,
        "created": report.counts["invoices_created"], "reimport_seconds": round(time.perf_counter() - again, 2),
        "peak_rss_mib_before": round(rss_before), "peak_rss_mib": round(peak_rss_mib()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both", "auto"], default="auto")
    parser.add_argument("--pg-url", default=os.environ.get("RELANCE_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    databases = {"sqlite": ["sqlite"], "postgres": ["postgres"], "both": ["sqlite", "postgres"],
                 "auto": ["sqlite"] + (["postgres"] if os.environ.get("DATABASE_URL") else [])}[args.database]
    results = []
    for database in databases:
        folder = Path(tempfile.mkdtemp(prefix=f"relance-csv-bench-{database}-"))
        command = [sys.executable, __file__, "--worker", "--database", database, "--workdir", str(folder),
                   "--invoices", str(args.invoices), "--customers", str(args.customers), "--pg-url", args.pg_url]
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        sys.stderr.write(done.stderr)
        if done.returncode:
            results.append({"database": database, "error": done.stderr.strip().splitlines()[-1:]})
        else:
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if not args.keep:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "error" in r:
                print(f"{r['database']:<9} FAILED {r['error']}")
                continue
            print(f"{r['database']:<9} {r['invoices']:>9} invoices ({r['file_mib']} MiB) in {r['seconds']} s, "
                  f"peak RSS {r['peak_rss_mib']} MiB; same file again {r['reimport_seconds']} s — {r['machine']}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
