"""Fuzzing every importer (issue #11, docs/security.md): mutated files through the parsers, and a sample
of them through the import services on SQLite and PostgreSQL.

    .venv/bin/python bench/fuzz.py [--per-format 10000] [--seed 11] [--formats csv,xlsx,…]
                                   [--services 60] [--database sqlite|postgres|both|none] [--json]

For each format (CSV, XLSX, FEC, CII, UBL, Factur-X PDF, camt, OFX, MT940, CFONB) the seeds are the test
fixtures (and ``../shared/realdata`` when present); each input is a seed mutated by a deterministic
``random.Random(seed)``: bytes flipped, inserted, deleted, duplicated, truncated, format tokens inserted
(tags, separators, huge or signed numbers, NaN, far dates), seeds spliced, a region repeated up to
4 MB (1 input in 100), and for the ZIP-based XLSX the sheet's XML mutated inside a valid archive.

An input's outcome is *accepted* (a result, maybe with problems), *refused* (the parser's declared error:
TabularError, FecError, EinvoiceFormatError, BankFormatError), or a *crash* (any other exception: the
finding, saved under ``--crashes``). The time of each input is measured; « s/MB » divides it by the input's
size, at least 0.1 MB (a fixed cost per file of a few milliseconds is not a throughput).

Then ``--services`` inputs per format go through the import service (``import_file``, ``import_fec``,
``import_einvoices``, ``import_statement``) on a fresh database: each must import or raise a
``RelanceError`` (« Import refusé… »), and a refused one must leave every table as it was (0 partial
imports: the rows of the ledger, banking, events and import tables are counted before and after).
Exit code 1 when there is a crash or a partial import.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import fresh_database, log

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
REALDATA = ROOT.parent / "shared" / "realdata"
sys.path.insert(0, str(ROOT / "src"))

FORMATS = ("csv", "xlsx", "fec", "cii", "ubl", "facturx", "camt", "ofx", "mt940", "cfonb")

TOKENS: dict[str, list[bytes]] = {
    "common": [b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\r\n", b"\n", b"\t", b'"', b"'", b";", b",", b"-", b"+",
               b"0", b"9" * 40, b"1e999999", b"NaN", b"-inf", b"Infinity", b"99999999999999999999,99",
               b"-0,00", b"31/02/2026", b"9999-12-31", b"0000-00-00", b"29/02/2100", b"\xc3\xa9", b"\xe9",
               b"%s%n", b"{{ 7*7 }}", b"../../etc/passwd", b"/etc/passwd", b"A" * 300],
    "xml": [b"<", b">", b"</", b"/>", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>", b"&e;",
            b"&amp;", b"&#0;", b"&#x110000;", b"<![CDATA[", b"]]>", b"<?xml version='1.0'?>", b'xmlns:x="y"',
            b"<Amt Ccy=\"EUR\">", b"</Amt>", b"<ram:DuePayableAmount>", b"<cbc:PayableAmount currencyID=\"EUR\">"],
    "ofx": [b"<OFX>", b"</OFX>", b"<STMTRS>", b"</STMTRS>", b"<STMTTRN>", b"</STMTTRN>", b"<TRNAMT>",
            b"<DTPOSTED>", b"<BANKTRANLIST>", b"<A", b"<A>" * 50, b"</B>" * 50, b"<!DOCTYPE"],
    "mt940": [b":20:", b":25:", b":28C:", b":60F:", b":61:", b":86:", b":62F:", b"C", b"D", b"RC", b"EUR",
              b"2602301231", b"-}", b"{1:"],
    "cfonb": [b"01", b"04", b"05", b"07", b" " * 120, b"}", b"{", b"J", b"R", b"0" * 14],
    "tabular": [b"numero;client;date;echeance;montant", b"PDF", b"=cmd|' /C calc'!A0", b"@SUM(1)"],
    "fec": [b"JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|CompAuxNum|CompAuxLib|PieceRef|"
            b"PieceDate|EcritureLib|Debit|Credit|EcritureLet|DateLet|ValidDate|Montantdevise|Idevise",
            b"|", b"411", b"41100000", b"CLIENTS DIVERS", b"20261231"],
    "pdf": [b"%PDF-1.7", b"obj", b"endobj", b"stream", b"endstream", b"/EmbeddedFile", b"/AF", b"xref",
            b"trailer", b"<<", b">>", b"/Length 999999999", b"/Filter /FlateDecode"],
}
FAMILY = {"csv": "tabular", "xlsx": "tabular", "fec": "fec", "cii": "xml", "ubl": "xml", "facturx": "pdf",
          "camt": "xml", "ofx": "ofx", "mt940": "mt940", "cfonb": "cfonb"}


# --------------------------------------------------------------------------- seeds


def _files(*patterns: tuple[Path, str]) -> list[bytes]:
    out = []
    for folder, pattern in patterns:
        if folder.is_dir():
            out += [p.read_bytes() for p in sorted(folder.glob(pattern)) if p.is_file() and p.stat().st_size < 500_000]
    return out


def _xlsx_of(csv_raw: bytes) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for line in csv_raw.decode("utf-8-sig").splitlines():
        ws.append(line.split(";"))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


MT940 = (b":20:STARTUMS\r\n:25:FR7630006000011234567890189\r\n:28C:1/1\r\n:60F:C261102EUR1000,00\r\n"
         b":61:2611021102C1200,00NTRFNONREF//B1\r\n:86:VIR SEPA DURAND FA-2026-0101 RF18539007547034\r\n"
         b":61:2611031103D35,50NCHGNONREF\r\n:86:FRAIS\r\n:62F:C261103EUR2164,50\r\n-\r\n")
CFONB = (b"0130002    00443EUR2 00012345678  011126                                                  0000000100000{ "
         b"                \n"
         b"0430002    00443EUR2 00012345678B1021126  021126VIR DURAND FA-2026-0101        0000000  0000000012000{ "
         b"REF1            \n"
         b"0530002    00443EUR2 00012345678B1021126     LIBVIR SEPA RF18539007547034                          "
         b"                \n"
         b"0730002    00443EUR2 00012345678  031126                                                  0000000112000{ "
         b"                \n")
OFX = (b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nCHARSET:1252\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>"
       b"<CURDEF>EUR<BANKACCTFROM><BANKID>30006<ACCTID>FR7630006000011234567890189</BANKACCTFROM><BANKTRANLIST>"
       b"<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261102<TRNAMT>1200.00<FITID>F1<NAME>DURAND<MEMO>FA-2026-0101"
       b"</STMTTRN></BANKTRANLIST><LEDGERBAL><BALAMT>2200.00<DTASOF>20261102</LEDGERBAL></STMTRS></STMTTRNRS>"
       b"</BANKMSGSRSV1></OFX>\n")


def seeds() -> dict[str, list[bytes]]:
    csv_seeds = _files((FIXTURES / "csv", "*.csv"), (FIXTURES / "csv" / "bad", "*.csv"))
    bank = REALDATA / "bank"
    einv = REALDATA / "einvoice"
    found = {
        "csv": csv_seeds,
        "xlsx": [_xlsx_of(s) for s in _files((FIXTURES / "csv", "*.csv"))],
        "fec": _files((FIXTURES / "fec", "*.txt"), (FIXTURES / "fec", "*.csv"), (REALDATA / "fec", "*sage*"),
                      (REALDATA / "fec", "tryton*")),
        "cii": _files((FIXTURES / "einvoice", "*cii*.xml"), (FIXTURES / "einvoice", "supplier*.xml"),
                      (einv, "*minimum.xml"), (einv, "*cii.xml")),
        "ubl": _files((FIXTURES / "einvoice", "*ubl*.xml"), (einv, "*ubl.xml")),
        "facturx": _files((FIXTURES / "einvoice", "*.pdf")),
        "camt": _files((FIXTURES / "bank", "camt*.xml"), (bank, "genkgo_camt053.v2.minimal.xml"), (bank, "*camt054.v2*")),
        "ofx": [OFX, *_files((bank, "*.ofx"))],
        "mt940": [MT940, *_files((bank, "*.sta"))],
        "cfonb": [*_files((bank, "*cfonb*")), CFONB],  # a real file first: the services sample starts from it
    }
    return {k: v for k, v in found.items() if v}


# --------------------------------------------------------------------------- mutations


def mutate(rng: random.Random, fmt: str, pool: list[bytes]) -> bytes:
    data = bytearray(rng.choice(pool))
    if fmt == "xlsx" and rng.random() < 0.6:
        return _mutate_xlsx(rng, bytes(data))
    tokens = TOKENS["common"] + TOKENS[FAMILY[fmt]]
    if FAMILY[fmt] in ("xml", "ofx", "tabular", "fec") and rng.random() < 0.5:
        return _mutate_values(rng, bytes(data), tokens)
    for _ in range(rng.choice((1, 1, 2, 3, 5, 10))):
        n = len(data)
        op = rng.randrange(9)
        if n == 0:
            data += rng.choice(tokens)
            continue
        i = rng.randrange(n)
        if op == 0:
            data[i] = rng.randrange(256)
        elif op == 1:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2:
            del data[i : i + rng.randint(1, max(1, n // 10))]
        elif op == 3:
            j = rng.randrange(n)
            data[i:i] = data[j : j + rng.randint(1, 64)]
        elif op in (4, 5):
            data[i:i] = rng.choice(tokens)
        elif op == 6:
            del data[rng.randrange(n) :]
        elif op == 7:
            other = rng.choice(pool)
            data = data[:i] + bytearray(other[rng.randrange(max(1, len(other))) :])
        else:  # a digit run replaced by a longer one
            data[i:i] = str(rng.choice((0, 1, 10**6, 10**15, -1, 2**63))).encode()
    if rng.random() < 0.01:  # a big input: a region repeated up to 1–4 MB
        n = len(data)
        i = rng.randrange(max(1, n))
        chunk = bytes(data[i : i + rng.randint(1, 200)]) or b"x"
        target = rng.choice((1, 2, 4)) * 1_000_000
        data[i:i] = chunk * (target // len(chunk))
    return bytes(data)


VALUES = [b"", b" ", b"0", b"-1", b"1e999999", b"NaN", b"-Infinity", b"9" * 30, b"99999999999999999,99",
          b"1 553,84", b"12.345,67", b"-0.00", b"2026-02-30", b"9999-12-31", b"0001-01-01", b"31/12/9999",
          b"20261399", b"EUR", b"XXX", b"\xff\xfe", b"A" * 5000, b"FR7630006000011234567890189", b"RF00",
          b"&amp;&lt;", b"\xc3\xa9\xe2\x80\x99", b"=1+1", b"\x00", b"../../x.pdf"]


def _mutate_values(rng: random.Random, raw: bytes, tokens: list[bytes]) -> bytes:
    """Structure kept, values changed: the text between two tags, or a field between separators, is
    replaced — amounts, dates, currencies and identifiers reach the code that reads them."""
    data = bytearray(raw)
    for _ in range(rng.choice((1, 2, 3, 6))):
        n = len(data)
        if n < 2:
            break
        i = rng.randrange(n)
        stops = b"<>;|\n\t," if raw[:1] != b"<" else b"<>"
        start = i
        while start > 0 and data[start - 1] not in stops:
            start -= 1
        end = i
        while end < n and data[end] not in stops:
            end += 1
        data[start:end] = rng.choice(VALUES + tokens[:8])
    return bytes(data)


def _mutate_xlsx(rng: random.Random, raw: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(raw)) as src:
        items = [(i, src.read(i.filename)) for i in src.infolist()]
    out = io.BytesIO()
    targets = [k for k, (i, _) in enumerate(items) if i.filename.endswith(".xml")]
    k = rng.choice(targets)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for j, (info, body) in enumerate(items):
            if j == k:
                body = mutate(rng, "camt", [body])  # XML tokens on the sheet, styles, workbook or strings
                if rng.random() < 0.05:
                    body = body.replace(b"</sheetData>", b'<row r="9"/>' * 200_000 + b"</sheetData>")
            dst.writestr(info.filename, body)
    return out.getvalue()


# --------------------------------------------------------------------------- parsers


def parsers() -> dict[str, tuple[Callable[[bytes], Any], tuple[type[BaseException], ...]]]:
    from relance.core.formats import fec, receivables, tabular
    from relance.core.formats.bank import camt, cfonb, mt940, ofx
    from relance.core.formats.bank.model import BankFormatError
    from relance.core.formats.einvoice import read_einvoice
    from relance.core.formats.einvoice.model import EinvoiceFormatError

    def csv_(raw: bytes) -> Any:
        return receivables.parse_table(tabular.read_csv(raw, "f.csv"), "f.csv")

    def xlsx(raw: bytes) -> Any:
        return [receivables.parse_table(s, "f.xlsx") for s in tabular.read_xlsx(raw, "f.xlsx")]

    def fec_(raw: bytes) -> Any:
        result = fec.parse_fec(raw, "FEC.txt")
        return fec.receivables(result.lines, "411", "FEC.txt")

    def einvoice(raw: bytes) -> Any:
        return read_einvoice(raw, "facture")

    tab, bank = (tabular.TabularError,), (BankFormatError,)
    return {
        "csv": (csv_, tab), "xlsx": (xlsx, tab), "fec": (fec_, (fec.FecError,)),
        "cii": (einvoice, (EinvoiceFormatError,)), "ubl": (einvoice, (EinvoiceFormatError,)),
        "facturx": (einvoice, (EinvoiceFormatError,)),
        "camt": (lambda r: camt.parse(r, "f.xml"), bank), "ofx": (lambda r: ofx.parse(r, "f.ofx"), bank),
        "mt940": (lambda r: mt940.parse(r, "f.sta"), bank), "cfonb": (lambda r: cfonb.parse(r, "f.txt"), bank),
    }


@dataclass
class Tally:
    inputs: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: int = 0
    bytes: int = 0
    seconds: float = 0.0
    worst_seconds: float = 0.0
    worst_s_per_mb: float = 0.0
    worst_size: int = 0
    largest: int = 0
    crash_kinds: dict[str, int] = field(default_factory=dict)


def fuzz_parsers(fmt: str, pool: list[bytes], count: int, seed: int, crashes: Path) -> Tally:
    parse, declared = parsers()[fmt]
    rng = random.Random(f"{seed}-{fmt}")
    tally = Tally()
    for n in range(count):
        data = mutate(rng, fmt, pool)
        started = time.process_time()
        try:
            parse(data)
            tally.accepted += 1
        except declared:
            tally.refused += 1
        except Exception as exc:
            tally.crashes += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            kind = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
            if kind not in tally.crash_kinds:
                crashes.mkdir(parents=True, exist_ok=True)
                (crashes / f"{fmt}-{n}.bin").write_bytes(data)
                log(f"{fmt} #{n}: {kind}: {str(exc)[:200]}")
            tally.crash_kinds[kind] = tally.crash_kinds.get(kind, 0) + 1
        elapsed = time.process_time() - started
        tally.inputs += 1
        tally.bytes += len(data)
        tally.seconds += elapsed
        tally.largest = max(tally.largest, len(data))
        tally.worst_seconds = max(tally.worst_seconds, elapsed)
        per_mb = elapsed / max(len(data) / 1e6, 0.1)
        if per_mb > tally.worst_s_per_mb:
            tally.worst_s_per_mb, tally.worst_size = per_mb, len(data)
    return tally


# --------------------------------------------------------------------------- services


SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "fec": ".txt", "cii": ".xml", "ubl": ".xml", "facturx": ".pdf",
          "camt": ".xml", "ofx": ".ofx", "mt940": ".sta", "cfonb": ".txt"}


def _counts() -> dict[str, int]:
    from django.apps import apps

    return {m._meta.label: m._default_manager.count() for m in apps.get_models()
            if m._meta.app_label in ("ledger", "banking", "events", "dunning", "litigation", "profiles")}


def fuzz_services(database: str, pools: dict[str, list[bytes]], count: int, seed: int, workdir: Path,
                  pg_server: str) -> dict[str, Any]:
    import django

    fresh_database(database, workdir, pg_server, "relance_fuzz")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    django.setup()
    from django.core.management import call_command

    from relance.banking.services.statements import import_statement
    from relance.dunning.services.scenarios import install_default_scenario
    from relance.errors import RelanceError
    from relance.ledger.models import Organisation
    from relance.ledger.services.einvoice_import import import_einvoices
    from relance.ledger.services.fec_import import import_fec
    from relance.ledger.services.imports import import_file

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(
        slug="fuzz", legal_name="Atelier Fuzz SAS", siren="552100554", address1="5 place Bellecour",
        postal_code="69002", city="Lyon", iban="FR7630006000011234567890189", bic="AGRIFRPP",
        sender_email="compta@fuzz.test", signature_name="Sophie Laurent")
    install_default_scenario(org)
    importers: dict[str, Callable[[Path], Any]] = {
        "csv": lambda p: import_file(org, p, default_kind="entreprise"),
        "xlsx": lambda p: import_file(org, p, default_kind="entreprise"),
        # an explicit default kind, so that files creating customers reach the write path
        "fec": lambda p: import_fec(org, p, default_kind="entreprise"),
        "cii": lambda p: import_einvoices(org, [p], default_kind="entreprise"),
        "ubl": lambda p: import_einvoices(org, [p], default_kind="entreprise"),
        "facturx": lambda p: import_einvoices(org, [p], default_kind="entreprise"),
        "camt": lambda p: import_statement(org, p), "ofx": lambda p: import_statement(org, p),
        "mt940": lambda p: import_statement(org, p), "cfonb": lambda p: import_statement(org, p),
    }
    # the clients first, so that invoices of the seeds can be imported too
    import_file(org, FIXTURES / "csv" / "clients.csv", default_kind="entreprise")
    out: dict[str, Any] = {}
    files = workdir / "inputs"
    files.mkdir(exist_ok=True)
    for fmt, pool in pools.items():
        rng = random.Random(f"{seed}-services-{fmt}")
        result = {"inputs": 0, "imported": 0, "refused": 0, "crashes": 0, "partial": 0, "worst_seconds": 0.0}
        for n in range(count):
            data = mutate(rng, fmt, pool) if n else pool[0]
            if len(data) > 300_000:
                data = data[:300_000]
            path = files / f"{fmt}-{n}{SUFFIX[fmt]}"
            path.write_bytes(data)
            before = _counts()
            started = time.process_time()
            try:
                importers[fmt](path)
                result["imported"] += 1
            except RelanceError:
                result["refused"] += 1
                if _counts() != before:
                    result["partial"] += 1
                    log(f"{database} {fmt} #{n}: refused but the database changed")
            except Exception as exc:
                result["crashes"] += 1
                log(f"{database} {fmt} #{n}: {type(exc).__name__}: {str(exc)[:200]}")
                (workdir / "crashes").mkdir(exist_ok=True)
                (workdir / "crashes" / path.name).write_bytes(data)
            result["worst_seconds"] = round(max(result["worst_seconds"], time.process_time() - started), 3)
            result["inputs"] += 1
            path.unlink()
        out[fmt] = result
    return out


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-format", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--services", type=int, default=60, help="inputs per format through the import services")
    ap.add_argument("--database", choices=["sqlite", "postgres", "both", "none"], default="both")
    ap.add_argument("--pg", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    ap.add_argument("--crashes", type=Path, default=Path(tempfile.gettempdir()) / "relance-fuzz-crashes")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)  # the mt-940 library logs every line it cannot match
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    formats = [f for f in args.formats.split(",") if f]
    pools = {k: v for k, v in seeds().items() if k in formats}
    report: dict[str, Any] = {"seed": args.seed, "machine": f"{platform.machine()} {os.cpu_count()} CPU, "
                              f"Python {platform.python_version()}", "parsers": {}, "services": {}}
    for fmt, pool in pools.items() if args.per_format else []:
        started = time.perf_counter()
        tally = fuzz_parsers(fmt, pool, args.per_format, args.seed, args.crashes)
        report["parsers"][fmt] = {**tally.__dict__, "seeds": len(pool), "seconds": round(tally.seconds, 2),
                                  "worst_seconds": round(tally.worst_seconds, 3),
                                  "worst_s_per_mb": round(tally.worst_s_per_mb, 3)}
        log(f"{fmt}: {tally.inputs} inputs ({len(pool)} seeds), {tally.accepted} accepted, {tally.refused} refused, "
            f"{tally.crashes} crashes, worst {tally.worst_seconds:.3f} s, worst {tally.worst_s_per_mb:.3f} s/MB "
            f"({tally.worst_size} bytes), largest {tally.largest} bytes, {time.perf_counter() - started:.0f} s")
    databases = {"both": ["sqlite", "postgres"], "none": []}.get(args.database, [args.database])
    for database in databases if args.services else []:
        if len(databases) > 1:  # Django is configured once per process: one process per database
            command = [sys.executable, __file__, "--per-format", "0", "--seed", str(args.seed), "--formats", args.formats,
                       "--services", str(args.services), "--database", database, "--pg", args.pg, "--json"]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            sys.stderr.write(done.stderr)
            report["services"][database] = json.loads(done.stdout)["services"][database]
            continue
        with tempfile.TemporaryDirectory() as tmp:
            report["services"][database] = fuzz_services(database, pools, args.services, args.seed, Path(tmp), args.pg)
        log(f"services on {database}: {json.dumps(report['services'][database])}")
    crashes = sum(t["crashes"] for t in report["parsers"].values())
    partial = sum(r["partial"] + r["crashes"] for db in report["services"].values() for r in db.values())
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 1 if crashes or partial else 0


if __name__ == "__main__":
    sys.exit(main())
