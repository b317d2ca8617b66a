"""Benchmark: import of a synthetic 1 000 000-line FEC into the ledger.

    .venv/bin/python bench/fec_import.py [--lines 1000000] [--database sqlite|postgres|both|auto]
                                         [--reimport] [--json] [--keep] [--profile]

The FEC is generated (streamed to a temporary file, seed fixed) like the book of a
company of 8 000 customers over one year: à-nouveaux (opening entries) detailing last
year's open customer items, sales invoices (VE: customer, two revenue lines, VAT),
credit notes, customer receipts lettered with their invoices — some partly (partial
lettering), some not at all (payments on account) —, purchases, supplier payments,
payroll and miscellaneous entries. About one line in seven is on a customer account;
tens of thousands of customer items stay open.

Each database runs in its own subprocess (clean settings): a fresh SQLite file in a
temporary directory, or the PostgreSQL database ``<name>_bench`` (``h1fec_bench`` for
``DATABASE_URL=postgres://…/h1fec``) dropped and recreated. ``auto`` (the default) runs
SQLite, and PostgreSQL too when ``DATABASE_URL`` is set. In each: migrations, an
organisation, then ``import_fec`` timed, its SQL statements counted, and the peak RSS of
the process (``ru_maxrss``) read; then the same file again (recognised, nothing done). With
``--reimport``, a second export of the same books one month later (more invoices, more of
them lettered) is imported on top: the update path.

This is a benchmark, not a test: speed is measured here, never by timed unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from _common import QueryCounter, fresh_database, log, peak_rss_mib

TARGET_SECONDS = 60.0
YEAR_START = date(2025, 1, 1)
CUTOFFS = (date(2025, 11, 30), date(2025, 12, 31))  # first export, the one a month later (--reimport)
HEADER = ("JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\t"
          "PieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise")
SEED = 2026


def cpu_seconds() -> float:
    """CPU time of this process (user + system): on a shared machine, closer than the wall
    time to what an idle machine would take (the PostgreSQL server's own time is not in it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> float:
    return os.getloadavg()[0]


# --------------------------------------------------------------------------- the synthetic FEC


def _amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def _day(d: date) -> str:
    return d.strftime("%Y%m%d")


def _letters(n: int) -> str:
    """0 → AAA, 1 → AAB… (lettering codes, per customer account)."""
    out = ""
    for _ in range(3):
        n, r = divmod(n, 26)
        out = chr(65 + r) + out
    return ("" if n == 0 else _letters(n - 1)) + out


Row = tuple[str, str, str, str, str, str, int, int, str, "date | None"]
JOURNALS = {"AN": "A nouveaux", "VE": "Ventes", "HA": "Achats", "BQ": "Banque", "OD": "Operations diverses"}
LINES_OF = {"inv": 4, "note": 3, "rcpt": 2, "pur": 3, "spay": 2, "pay": 4, "fee": 2}


def _books(target_lines: int, seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, date, int, str, Any]]]:
    """The whole year's entries, (journal, day, order, kind, payload), whatever the cutoff: an
    export writes those up to its cutoff, so entry numbers never move from one export to the
    next. The customer side depends on the seed only; purchases and bank charges are sized so
    that the first export (``CUTOFFS[0]``) has ``target_lines`` lines."""
    scale = target_lines / 1_000_000
    n_customers = max(50, int(8_000 * scale))
    n_suppliers = max(20, int(1_500 * scale))
    customers = [(f"C{i:05d}", f"CLIENT {i:05d} SARL") for i in range(n_customers)]
    rng = random.Random(seed)
    codes: dict[int, int] = {}

    def letter(cust: int) -> str:  # a code per customer item, whether lettered yet or not
        k = codes[cust] = codes.get(cust, -1) + 1
        return _letters(k)

    entries: list[tuple[str, date, int, str, Any]] = []
    # à-nouveaux: last year's open items, in detail, ten a entry
    opening = []
    for i in range(int(2_500 * scale)):
        cust = rng.randrange(n_customers)
        cents = int(rng.lognormvariate(7.0, 1.0) * 100) + 500
        paid_on = YEAR_START + timedelta(days=rng.randrange(10, 200)) if rng.random() < 0.7 else None
        opening.append((cust, cents, f"FA24{i:06d}", letter(cust), paid_on))
        if paid_on:
            entries.append(("BQ", paid_on, len(entries), "rcpt", (cust, cents, f"FA24{i:06d}", opening[-1][3],
                                                                  f"Reglt FA24{i:06d}")))
    for start in range(0, len(opening), 10):
        entries.append(("AN", YEAR_START, start, "an", opening[start:start + 10]))
    # the year's invoices: a third paid and lettered in full, some in part (partial lettering), a
    # few credited, the rest open; a few customers weigh much more than the others
    invoices = []
    for i in range(max(200, int(78_000 * scale))):
        day = YEAR_START + timedelta(days=int(rng.random() * 364))
        cust = (min(int(rng.paretovariate(1.2)) - 1, n_customers - 1) if rng.random() < 0.3
                else rng.randrange(n_customers))
        cents = int(rng.lognormvariate(7.0, 1.0) * 100) + 500
        invoices.append((day, cust, cents, rng.random(), max(1, int(rng.gauss(50, 25))), rng.randrange(3, 40), i))
    invoices.sort()
    for day, cust, cents, fate, delay, note_delay, i in invoices:
        piece = f"FA{25000000 + i}"
        code = letter(cust)
        paid_on = day + timedelta(days=delay)
        if fate < 0.62:
            entries.append(("BQ", paid_on, len(entries), "rcpt", (cust, cents, piece, code,
                                                                  f"Vir {customers[cust][1]} {piece}")))
        elif fate < 0.67:
            entries.append(("BQ", paid_on, len(entries), "rcpt", (cust, cents // 2, piece, code,
                                                                  f"Acompte {customers[cust][1]} {piece}")))
        elif fate < 0.69:
            entries.append(("VE", day + timedelta(days=note_delay), len(entries), "note",
                            (cust, cents // 5, "AV" + piece[2:], piece)))
        entries.append(("VE", day, len(entries), "inv", (cust, cents, piece, code, paid_on if fate < 0.67 else None)))
    for k in range(int(3_000 * scale)):  # payments on account, never lettered
        entries.append(("BQ", YEAR_START + timedelta(days=rng.randrange(0, 364)), len(entries), "rcpt",
                        (rng.randrange(n_customers), rng.randrange(50, 2000) * 100, f"ACPT{k:05d}", "",
                         "Virement recu")))
    month = YEAR_START
    while month.year == YEAR_START.year:  # payroll
        for e in range(int(20 * scale) + 1):
            entries.append(("OD", month + timedelta(days=27), len(entries), "pay", (month, e)))
        month = (month + timedelta(days=32)).replace(day=1)
    # purchases, their payments and bank charges fill the first export up to its size
    cutoff = CUTOFFS[0]
    used = sum(len(p) + 1 if kind == "an" else LINES_OF[kind] for _j, d, _o, kind, p in entries if d <= cutoff)
    rng = random.Random(seed + 1)
    for i in range(max(0, int((target_lines - used) * 0.9)) // 5):
        day = YEAR_START + timedelta(days=int(rng.random() * 334))
        sup, cents = rng.randrange(n_suppliers), int(rng.lognormvariate(6.0, 1.1) * 100) + 100
        entries.append(("HA", day, len(entries), "pur", (sup, cents, i)))
        entries.append(("BQ", day + timedelta(days=30), len(entries), "spay", (sup, cents, i)))
    used = sum(len(p) + 1 if kind == "an" else LINES_OF[kind] for _j, d, _o, kind, p in entries if d <= cutoff)
    for k in range(max(0, target_lines - 1 - used) // 2):
        entries.append(("OD", YEAR_START + timedelta(days=k % 333), len(entries), "fee", (k, 1_000 + k % 9_000)))
    order = list(JOURNALS)
    entries.sort(key=lambda e: (order.index(e[0]), e[1], e[2]))
    return customers, entries


def _rows(kind: str, payload: Any, customers: list[tuple[str, str]], cutoff: date) -> list[Row]:
    if kind == "an":
        rows: list[Row] = []
        for cust, cents, piece, code, paid_on in payload:
            aux, name = customers[cust]
            let = code if paid_on and paid_on <= cutoff else ""
            rows.append(("41100000", "Clients", aux, name, piece, f"Report {piece}", cents, 0, let, None))
        total = sum(p[1] for p in payload)
        return [*rows, ("89000000", "Bilan d'ouverture", "", "", "AN", "Report a nouveau", 0, total, "", None)]
    if kind == "inv":
        cust, cents, piece, code, paid_on = payload
        aux, name = customers[cust]
        ht = cents * 100 // 120
        part = ht * 2 // 3
        let = code if paid_on and paid_on <= cutoff else ""
        return [("41100000", "Clients", aux, name, piece, f"Facture {piece} {name}", cents, 0, let, None),
                ("70610000", "Prestations de services", "", "", piece, f"Facture {piece}", 0, part, "", None),
                ("70710000", "Ventes de marchandises", "", "", piece, f"Facture {piece}", 0, ht - part, "", None),
                ("44571000", "TVA collectee", "", "", piece, f"Facture {piece}", 0, cents - ht, "", None)]
    if kind == "note":
        cust, cents, ref, piece = payload
        aux, name = customers[cust]
        ht = cents * 100 // 120
        return [("41100000", "Clients", aux, name, ref, f"Avoir sur {piece}", 0, cents, "", None),
                ("70910000", "RRR accordes", "", "", ref, f"Avoir sur {piece}", ht, 0, "", None),
                ("44571000", "TVA collectee", "", "", ref, f"Avoir sur {piece}", cents - ht, 0, "", None)]
    if kind == "rcpt":
        cust, cents, piece, code, text = payload
        aux, name = customers[cust]
        return [("51200000", "Banque", "", "", piece, text, cents, 0, "", None),
                ("41100000", "Clients", aux, name, piece, text, 0, cents, code, None)]
    if kind == "pur":
        sup, cents, i = payload
        ht = cents * 100 // 120
        text = f"Facture fournisseur F{sup}"
        return [("60100000", "Achats de matieres", "", "", f"FF{i:07d}", text, ht, 0, "", None),
                ("44566000", "TVA deductible", "", "", f"FF{i:07d}", text, cents - ht, 0, "", None),
                ("40100000", "Fournisseurs", f"F{sup:05d}", f"FOURNISSEUR {sup}", f"FF{i:07d}", text, 0, cents, "",
                 None)]
    if kind == "spay":
        sup, cents, i = payload
        return [("40100000", "Fournisseurs", f"F{sup:05d}", f"FOURNISSEUR {sup}", f"FF{i:07d}",
                 "Paiement fournisseur", cents, 0, "", None),
                ("51200000", "Banque", "", "", f"FF{i:07d}", "Paiement fournisseur", 0, cents, "", None)]
    if kind == "pay":
        month, e = payload
        gross, ref = 250_000 + 1_000 * e, f"PAIE{month:%m}"
        return [("64110000", "Salaires", "", "", ref, "Salaire", gross, 0, "", None),
                ("64510000", "Charges sociales", "", "", ref, "Charges", gross * 42 // 100, 0, "", None),
                ("43100000", "URSSAF", "", "", ref, "Charges", 0, gross * 64 // 100, "", None),
                ("42100000", "Remunerations dues", "", "", ref, "Net", 0, gross * 78 // 100, "", None)]
    k, cents = payload
    return [("62700000", "Frais bancaires", "", "", f"OD{k:06d}", "Frais bancaires", cents, 0, "", None),
            ("51200000", "Banque", "", "", f"OD{k:06d}", "Frais bancaires", 0, cents, "", None)]


def generate(path: Path, target_lines: int = 1_000_000, cutoff: date = CUTOFFS[0], seed: int = SEED) -> dict[str, int]:
    """Write the FEC of the books up to ``cutoff`` (streamed, entry by entry)."""
    customers, entries = _books(target_lines, seed)
    numbers: dict[str, int] = {}
    lines = customer_lines = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER + "\n")
        for journal, day, _order, kind, payload in entries:
            n = numbers[journal] = numbers.get(journal, 0) + 1
            if day > cutoff:
                continue
            num, d, label = f"{journal}{n:06d}", _day(day), JOURNALS[journal]
            out = []
            for account, account_label, aux, aux_label, piece, text, debit, credit, let, _ in _rows(
                    kind, payload, customers, cutoff):
                out.append(f"{journal}\t{label}\t{num}\t{d}\t{account}\t{account_label}\t{aux}\t{aux_label}\t{piece}\t"
                           f"{d}\t{text}\t{_amount(debit)}\t{_amount(credit)}\t{let}\t{d if let else ''}\t{d}\t\t\n")
                customer_lines += account.startswith("411")
            fh.write("".join(out))
            lines += len(out)
    return {"lines": lines, "customer_lines": customer_lines, "customers": len(customers)}


# --------------------------------------------------------------------------- worker


def _prepare_environment(database: str, workdir: Path) -> str:
    """PostgreSQL: a ``<name>_bench`` database beside the one ``DATABASE_URL`` names."""
    if database == "sqlite":
        return fresh_database(database, workdir, "", "")
    server, _slash, name = os.environ["DATABASE_URL"].rpartition("/")
    return fresh_database(database, workdir, server, f"{name.split('?')[0] or 'relance'}_bench")

def worker(database: str, files: list[Path], workdir: Path, profile: bool) -> dict[str, Any]:
    target = _prepare_environment(database, workdir)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from relance.dunning.services.scenarios import install_default_scenario
    from relance.ledger.models import Invoice, Organisation
    from relance.ledger.services.fec_import import import_fec

    out: dict[str, Any] = {"database": database, "target": target}
    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(slug="bench-fec", legal_name="Bench FEC SAS", siren="")
    install_default_scenario(org)
    # what a server process has already loaded: the receivers of ``invoices_settled`` import
    # their modules on first use (one of them loads WeasyPrint, a second of CPU)
    from django.db import transaction

    from relance.ledger.signals import invoices_settled

    with transaction.atomic():
        invoices_settled.send(sender=Invoice, organisation=org, invoice_ids=[], on=None)
        transaction.set_rollback(True)
    out["rss_before_mib"] = peak_rss_mib()
    runs = []
    for n, path in enumerate(files):
        log(f"{database}: importing {path.name}")
        counter = QueryCounter()
        profiler = None
        if profile and n == 0:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        load = load_average()
        with connection.execute_wrapper(counter):
            cpu = cpu_seconds()
            start = time.perf_counter()
            report = import_fec(org, path, default_kind="entreprise")
            elapsed = time.perf_counter() - start
            cpu = cpu_seconds() - cpu
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
        data = report.as_dict()
        runs.append({
            "file": path.name, "seconds": elapsed, "cpu_seconds": cpu, "load_before": load,
            "load_after": load_average(), "queries": counter.count, "sql_seconds": counter.seconds,
            "sql_top": counter.top(),
            "peak_rss_mib": peak_rss_mib(), "lines": data["lines"], "open_invoices": data["open_invoices"],
            "open_credits": data["open_credits"], "customers": data["customers"], "open_amount": data["open_amount"],
            "counts": {k: v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)
                       and k not in ("lines", "entries", "customers", "open_invoices", "open_credits")},
            "warnings": len(data["warnings"]),
        })
        start = time.perf_counter()
        again = import_fec(org, path, default_kind="entreprise")
        runs[-1]["again_seconds"] = time.perf_counter() - start
        runs[-1]["again_already_imported"] = again.already_imported
    out["runs"] = runs
    out["consistent"] = _consistent(org, runs[-1]["open_amount"])
    out["invoices_in_ledger"] = Invoice.objects.filter(organisation=org).count()
    out["open_in_ledger"] = Invoice.objects.filter(organisation=org, status="open").count()
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def _consistent(org: Any, open_amount: str) -> bool:
    """Σ amount due of the invoices − Σ credits left unapplied = the open balance of the file
    (summed in Python: SQLite sums decimal columns in floating point)."""
    from decimal import Decimal

    from django.db.models import Q

    from relance.ledger.models import Allocation, CreditNote, Invoice, Payment

    due = sum(Invoice.objects.filter(organisation=org).values_list("amount_due", flat=True), Decimal(0))
    credits = sum(Payment.objects.filter(organisation=org, reference__startswith="FEC ")
                  .values_list("amount", flat=True), Decimal(0))
    credits += sum(CreditNote.objects.filter(organisation=org, reason__startswith="FEC ")
                   .values_list("amount_incl_tax", flat=True), Decimal(0))
    applied = sum(Allocation.objects.filter(organisation=org).filter(
        Q(payment__reference__startswith="FEC ") | Q(credit_note__reason__startswith="FEC "))
        .values_list("amount", flat=True), Decimal(0))
    return due - (credits - applied) == Decimal(open_amount)


# --------------------------------------------------------------------------- main


def _table(results: list[dict[str, Any]], generated: list[dict[str, Any]]) -> str:
    lines = []
    for g in generated:
        lines.append(f"generated {g['file']}: {g['lines']:,} lines, {g['customer_lines']:,} on customer accounts, "
                     f"{g['mib']:.0f} MiB, {g['seconds']:.1f} s")
    for r in results:
        lines.append(f"\n{r['database']} ({r['target']}), RSS after setup {r['rss_before_mib']:.0f} MiB")
        for run in r["runs"]:
            verdict = "ok" if run["seconds"] <= TARGET_SECONDS else f"OVER the {TARGET_SECONDS:.0f} s target"
            c = run["counts"]
            lines.append(
                f"  {run['file']}: {run['seconds']:.1f} s ({verdict}), CPU {run['cpu_seconds']:.1f} s, load average "
                f"{run['load_before']:.1f} → {run['load_after']:.1f}, {run['queries']:,} queries "
                f"({run['sql_seconds']:.1f} s in SQL), peak RSS {run['peak_rss_mib']:.0f} MiB\n"
                f"    {run['open_invoices']:,} open invoices, {run['open_credits']:,} open credits, "
                f"{run['customers']:,} customers, {run['open_amount']} € open\n"
                f"    created: {c['customers_created']:,} customers, {c['invoices_created']:,} invoices, "
                f"{c['payments_created']:,} payments, {c['credit_notes_created']:,} credit notes; "
                f"updated {c['invoices_updated']:,}, closed {c['invoices_closed']:,}, "
                f"removed credits {c['payments_removed'] + c['credit_notes_removed']:,}; "
                f"credits applied {c['credits_applied']:,}\n"
                f"    same file again: {run['again_seconds'] * 1000:.0f} ms (already imported: "
                f"{run['again_already_imported']})\n"
                "    SQL: " + ", ".join(f"{kind} ×{count} {seconds:.1f} s" for kind, count, seconds in run["sql_top"]))
        lines.append(f"  ledger: {r['invoices_in_ledger']:,} invoices, {r['open_in_ledger']:,} open; Σ amount due − "
                     f"Σ unapplied credits = open amount of the file: {r['consistent']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both", "auto"], default="auto")
    parser.add_argument("--reimport", action="store_true", help="then import the export of one month later")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--profile", action="store_true", help="cProfile the first import (to stderr)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--file", action="append", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.worker, args.file, args.workdir, args.profile)
        print(json.dumps(result, default=str))
        return 0
    databases = {"sqlite": ["sqlite"], "postgres": ["postgres"], "both": ["sqlite", "postgres"],
                 "auto": ["sqlite"] + (["postgres"] if os.environ.get("DATABASE_URL") else [])}[args.database]
    if "postgres" in databases and not os.environ.get("DATABASE_URL"):
        parser.error("PostgreSQL needs DATABASE_URL (the benchmark uses the database <name>_bench on that server)")
    tmp = Path(tempfile.mkdtemp(prefix="relance-bench-fec-"))
    generated = []
    files = []
    for cutoff in CUTOFFS[: 2 if args.reimport else 1]:
        path = tmp / f"123456789FEC{cutoff:%Y%m%d}.txt"
        log(f"generating {path.name} ({args.lines:,} lines)")
        start = time.perf_counter()
        # the export a month later has more lines: the same books, one more month
        info = generate(path, args.lines, cutoff)
        info.update(file=path.name, seconds=time.perf_counter() - start, mib=path.stat().st_size / 2**20)
        generated.append(info)
        files.append(path)
    results = []
    for database in databases:
        workdir = tmp / database
        workdir.mkdir()
        cmd = [sys.executable, __file__, "--worker", database, "--workdir", str(workdir)]
        for path in files:
            cmd += ["--file", str(path)]
        if args.profile:
            cmd.append("--profile")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0:
            log(f"{database}: worker failed (exit {proc.returncode})")
            return proc.returncode
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps({"generated": generated, "results": results}, indent=2, default=str))
    else:
        print(_table(results, generated))
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        log(f"kept {tmp}")
    over = any(run["seconds"] > TARGET_SECONDS for r in results for run in r["runs"])
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())

