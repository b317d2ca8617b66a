"""The writing check's speed on a whole formal notice: the shipped « mise_en_demeure » template
rendered on the editor's sample data (``messages.sample_context``, no database), checked as text and
as HTML. Target (issue #17): ≤ 50 ms, so that the template editor's live preview stays live.

    .venv/bin/python bench/writing_check.py [--runs 200] [--json]

Prints the first check (dictionary loading included), then the median and 95th percentile of
``--runs`` checks of the same text (the suggestion cache emptied before each run): as text, as HTML,
and as text with four spelling mistakes (their suggestions computed each time)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relance.settings")
    import django

    django.setup()
    from decimal import Decimal

    from relance.core.formatting import money
    from relance.dunning.services.messages import _business_basis, render_source, sample_context, shipped_source
    from relance.writing import check_text
    from relance.writing.dictionaries import suggest

    subject, body = shipped_source("mise_en_demeure", "fr")
    context = sample_context("fr")
    # a business debtor with charges to date: the longest notice (about 2 500 characters)
    context |= {"avec_penalites": True, "total_penalites": money(Decimal("41.27")),
                "total_indemnites": money(Decimal("80")), "total_frais_justifies": money(Decimal("150")),
                "total_reclame": money(Decimal("1751.77")),
                "base_legale": _business_basis([Decimal("12.15")], True, context["date_du_jour"], Decimal("150"),
                                               "EUR", "fr")}
    message = render_source(subject, body, context, "mise_en_demeure")
    text = f"{message.subject}\n\n{message.text}"
    typos = text.replace("facture", "facure", 2).replace("paiement", "paiment", 1).replace("recouvrement", "recouvrment", 1)
    started = time.perf_counter()
    problems = check_text(text)
    first_ms = (time.perf_counter() - started) * 1000
    results = {}
    for name, source, html in (("text", text, False), ("html", message.html, True), ("typos", typos, False)):
        times = []
        for _ in range(args.runs):
            suggest.cache_clear()
            started = time.perf_counter()
            check_text(source, html=html)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        results[name] = {"median_ms": round(statistics.median(times), 2),
                         "p95_ms": round(times[int(len(times) * 0.95) - 1], 2), "characters": len(source)}
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}"
    out = {"first_check_ms": round(first_ms, 1), "problems": len(problems), "runs": args.runs, "machine": machine,
           **results}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"formal notice (mise_en_demeure, sample data): {results['text']['characters']} characters, "
              f"{len(problems)} problem(s)")
        print(f"first check, dictionary loading included: {first_ms:.1f} ms")
        for name in ("text", "html", "typos"):
            r = results[name]
            print(f"{name:>4}: median {r['median_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms over {args.runs} checks "
                  f"({r['characters']} characters)")
        print(f"machine: {machine}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
