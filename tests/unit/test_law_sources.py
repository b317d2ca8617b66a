"""The shipped rate tables cite official sources only (issue #11): the arrêté in the Journal
officiel, the Banque de France, the ECB and the EU Official Journal (and service-public.fr's
own sheet) — never news, blog or comparison websites. Their figures are those of the research
note in ``shared/reference/`` (tests/unit/test_law_tables.py)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from relance.core.law import RateTables

OFFICIAL_PREFIXES = ("Journal officiel (Légifrance) : arrêté", "Banque de France", "service-public.fr, fiche F783",
                     "BCE, décision de politique monétaire", "JOUE série C", "https://www.banque-france.fr/",
                     "https://www.ecb.europa.eu/")
OFFICIAL_HOSTS = {"www.banque-france.fr", "www.ecb.europa.eu", "www.legifrance.gouv.fr", "eur-lex.europa.eu"}
TABLES = RateTables.shipped()


def _sources() -> list[tuple[str, str]]:
    rows = [(str(r.semester), s) for r in TABLES.legal_rows for s in r.sources]
    return rows + [(r.effective_date.isoformat(), s) for r in TABLES.ecb_rows for s in r.sources]


def test_every_source_is_official():
    sources = _sources()
    assert len(sources) > 60
    for row, source in sources:
        assert source.startswith(OFFICIAL_PREFIXES), (row, source)
        for url in re.findall(r"https?://\S+", source):
            assert urlparse(url).netloc in OFFICIAL_HOSTS, (row, url)


def test_every_known_rate_names_its_arrete_or_decision():
    for row in TABLES.legal_rows:
        if row.individual is not None:
            assert any(s.startswith("Journal officiel (Légifrance) : arrêté") for s in row.sources), row.semester
    for ecb in TABLES.ecb_rows:
        assert any("BCE" in s for s in ecb.sources), ecb.effective_date
