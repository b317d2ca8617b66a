"""Rate tables: taux de l’intérêt légal and the ECB main refinancing rate.

* **Taux de l’intérêt légal** (C. mon. fin. L313-2, ordonnance 2014-947, since 1 January 2015):
  fixed by arrêté for each semester, with two rates depending on the **creditor**: ``"individual"``
  (a natural person not acting for professional needs, « particuliers ») and ``"other"`` (all
  other cases, « autres cas »).
* **ECB rate** (C. com. L441-10 II): the rate applied by the ECB to its most recent main
  refinancing operation (MRO). For late-payment penalties, « le taux applicable pendant le premier
  semestre de l’année concernée est le taux en vigueur au 1er janvier de l’année en question. Pour
  le second semestre […] le taux en vigueur au 1er juillet », plus 10 points by default.

Both tables ship with the package (``data/*.csv``, each row with its sources and status) and
can be extended by the caller with rows the application stores (``relance rates add``). A rate
that is not in the tables is never guessed: ``MissingRate`` says which one and how to add it.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Literal

from ..formatting import long_date
from ._dates import fr_date
from .errors import LawInputError, MissingRate

Category = Literal["individual", "other"]
CATEGORIES: tuple[Category, ...] = ("individual", "other")

DEFAULT_PENALTY_MARGIN = Decimal("10")
"""C. com. L441-10 II: the ECB rate « majoré de 10 points de pourcentage »."""

FLOOR_MULTIPLIER = Decimal("3")
"""C. com. L441-10 II: a contractual rate may not be « inférieur à trois fois le taux d’intérêt légal »."""

_SEMESTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Ss]([12])\s*$")


@dataclass(frozen=True, order=True)
class Semester:
    """A calendar half-year: ``Semester(2026, 1)`` is 1 January to 30 June 2026, written ``2026-S1``."""

    year: int
    half: int

    def __post_init__(self) -> None:
        if self.half not in (1, 2):
            raise LawInputError(f"semestre invalide : {self.year}-S{self.half} (S1 ou S2 attendu)")
        if not 1 <= self.year <= 9999:
            raise LawInputError(f"année invalide : {self.year}")

    @classmethod
    def parse(cls, text: str) -> Semester:
        """``"2026-S1"`` (also ``"2026S1"``, ``"2026-s1"``) -> ``Semester(2026, 1)``."""
        match = _SEMESTER.match(text)
        if not match:
            raise LawInputError(f"semestre illisible : {text!r} (format attendu : 2026-S1 ou 2026-S2)")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> date:
        """1 January or 1 July: also the date on which the ECB rate is read (L441-10 II)."""
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def next(self) -> Semester:
        return Semester(self.year, 2) if self.half == 1 else Semester(self.year + 1, 1)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label_fr(self) -> str:
        """« 1er semestre 2026 » / « 2e semestre 2026 »."""
        return f"{'1er' if self.half == 1 else '2e'} semestre {self.year}"

    def __str__(self) -> str:
        return f"{self.year}-S{self.half}"


def semester_of(day: date) -> Semester:
    """The semester containing ``day``."""
    return Semester(day.year, 1 if day.month <= 6 else 2)


def _as_semester(value: Semester | str) -> Semester:
    return value if isinstance(value, Semester) else Semester.parse(value)


def parse_rate(value: object, what: str = "taux") -> Decimal:
    """A rate in percent per year, as a ``Decimal`` (``"12,5"``, ``"12.5"``, ``12``, ``Decimal``).

    Raises ``LawInputError`` (French message) when it is not a number or is negative. Floats are
    accepted through their shortest ``repr`` (``0.1`` -> ``Decimal("0.1")``).
    """
    if isinstance(value, bool) or value is None:
        raise LawInputError(f"{what} : un nombre est attendu, pas {value!r}")
    if isinstance(value, Decimal):
        rate = value
    elif isinstance(value, int | float):
        rate = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        text = value.strip().removesuffix("%").strip().replace(",", ".")
        try:
            rate = Decimal(text)
        except InvalidOperation:
            raise LawInputError(f"{what} : « {value} » n’est pas un nombre") from None
    else:
        raise LawInputError(f"{what} : un nombre est attendu, pas {value!r}")
    if not rate.is_finite():
        raise LawInputError(f"{what} : « {value} » n’est pas un nombre")
    if rate < 0:
        raise LawInputError(f"{what} : un taux ne peut pas être négatif ({value})")
    return rate


@dataclass(frozen=True)
class LegalRateRow:
    """One semester of the taux de l’intérêt légal, both categories, in percent per year."""

    semester: Semester
    individual: Decimal
    other: Decimal
    status: str = "CONFIRMED"
    reference: str = ""
    sources: tuple[str, ...] = ()
    notes: str = ""

    def rate(self, category: Category) -> Decimal:
        if category == "individual":
            return self.individual
        if category == "other":
            return self.other
        raise LawInputError(f"catégorie de taux légal inconnue : {category!r} (« individual » ou « other »)")


EcbKind = Literal["change", "hold", "fixing"]


@dataclass(frozen=True)
class EcbRateRow:
    """One fact about the ECB MRO rate, in percent per year.

    ``change``: a decision whose new rate applies from ``effective_date``. ``hold``: a decision
    confirming the rate, which is therefore still in force on that date. ``fixing``: the rate
    stated (by the user) to be in force on that one date, typically 1 January or 1 July.
    Together the ``change`` and ``hold`` rows are the full decision history from the first to the
    last of them; nothing is known after the last one.
    """

    effective_date: date
    rate: Decimal
    kind: EcbKind = "change"
    status: str = "CONFIRMED"
    sources: tuple[str, ...] = ()
    notes: str = ""

    @classmethod
    def fixing(cls, semester: Semester | str, rate: object, source: str = "saisi par l’utilisateur") -> EcbRateRow:
        """The MRO rate in force on the fixing date (1 Jan / 1 Jul) of ``semester``."""
        sem = _as_semester(semester)
        return cls(sem.start, parse_rate(rate, "taux BCE"), "fixing", "USER", (source,))


def legal_rate_row(semester: Semester | str, individual: object, other: object,
                   source: str = "saisi par l’utilisateur") -> LegalRateRow:
    """A row for a semester added by the user (``relance rates add --particuliers X --autres Y``)."""
    return LegalRateRow(_as_semester(semester), parse_rate(individual, "taux particuliers"),
                        parse_rate(other, "taux autres cas"), "USER", "", (source,))


def legal_hint(semester: Semester) -> str:
    return (f"Ajoutez-le dès sa publication par arrêté (Journal officiel, Banque de France) avec : "
            f"relance rates add --semestre {semester} --particuliers X --autres Y")


def ecb_hint(semester: Semester, last_known: date | None) -> str:
    known = f" (dernière décision connue : {long_date(last_known)})" if last_known else ""
    return (f"Le taux BCE en vigueur au {long_date(semester.start)} n’est pas connu{known}. "
            f"Ajoutez-le avec : relance rates add --semestre {semester} --bce X")


class RateTables:
    """The legal-rate and ECB tables, shipped rows first, then the caller’s extra rows.

    When an extra row contradicts a shipped one (same semester, or same date), the shipped,
    sourced value is kept and the disagreement is listed in ``conflicts`` (French messages).
    """

    def __init__(self, legal_rows: Iterable[LegalRateRow] = (), ecb_rows: Iterable[EcbRateRow] = (),
                 conflicts: Iterable[str] = ()):
        legal: dict[Semester, LegalRateRow] = {}
        notes = list(conflicts)
        for row in legal_rows:
            known = legal.get(row.semester)
            if known is None:
                legal[row.semester] = row
            elif (known.individual, known.other) != (row.individual, row.other):
                notes.append(
                    f"Taux légal {row.semester} : la valeur saisie ({row.individual} / {row.other}) diffère de la "
                    f"table ({known.individual} / {known.other}) ; la table est conservée."
                )
        self._legal = dict(sorted(legal.items()))
        decisions: dict[date, EcbRateRow] = {}
        fixings: dict[date, EcbRateRow] = {}
        for ecb in ecb_rows:
            target = fixings if ecb.kind == "fixing" else decisions
            known_ecb = target.get(ecb.effective_date)
            if known_ecb is None:
                target[ecb.effective_date] = ecb
            elif known_ecb.rate != ecb.rate:
                notes.append(
                    f"Taux BCE au {fr_date(ecb.effective_date)} : la valeur saisie ({ecb.rate}) diffère de la table "
                    f"({known_ecb.rate}) ; la table est conservée."
                )
        self._decisions = tuple(decisions[d] for d in sorted(decisions))
        kept: dict[date, EcbRateRow] = {}
        for day, fix in sorted(fixings.items()):
            in_history = self._from_history(day)
            if in_history is not None and in_history.rate != fix.rate:
                notes.append(
                    f"Taux BCE au {fr_date(day)} : la valeur saisie ({fix.rate}) diffère de l’historique des décisions "
                    f"({in_history.rate}) ; l’historique est conservé."
                )
                continue
            kept[day] = fix
        self._fixings = kept
        self.conflicts: tuple[str, ...] = tuple(notes)

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def shipped(cls) -> RateTables:
        """The tables shipped in ``relance/core/law/data`` (read once, then cached)."""
        return _shipped_tables()

    @classmethod
    def load(cls, extra_legal: Iterable[LegalRateRow] = (), extra_ecb: Iterable[EcbRateRow] = ()) -> RateTables:
        """The shipped tables plus the caller’s rows (semesters added by users)."""
        return cls.shipped().with_extra(extra_legal, extra_ecb)

    def with_extra(self, legal: Iterable[LegalRateRow] = (), ecb: Iterable[EcbRateRow] = ()) -> RateTables:
        return RateTables(
            [*self._legal.values(), *legal],
            [*self._decisions, *self._fixings.values(), *ecb],
            self.conflicts,
        )

    # --- legal rate -------------------------------------------------------------------------

    @property
    def legal_rows(self) -> tuple[LegalRateRow, ...]:
        return tuple(self._legal.values())

    def legal_row(self, semester: Semester | str) -> LegalRateRow:
        sem = _as_semester(semester)
        row = self._legal.get(sem)
        if row is None:
            raise MissingRate(sem, "legal", legal_hint(sem))
        return row

    def legal_rate(self, semester: Semester | str, category: Category) -> Decimal:
        """Taux de l’intérêt légal of ``semester`` (percent per year), C. mon. fin. L313-2.

        ``category`` is that of the **creditor**: ``"individual"`` for a natural person not acting
        for professional needs, ``"other"`` for all other cases (a company, even against a consumer).
        """
        if category not in CATEGORIES:
            raise LawInputError(f"catégorie de taux légal inconnue : {category!r} (« individual » ou « other »)")
        return self.legal_row(semester).rate(category)

    def penalty_floor(self, semester: Semester | str) -> Decimal:
        """3 × the legal rate « autres cas » of ``semester``: the minimum contractual penalty rate (L441-10 II)."""
        return FLOOR_MULTIPLIER * self.legal_rate(semester, "other")

    # --- ECB rate ---------------------------------------------------------------------------

    @property
    def ecb_rows(self) -> tuple[EcbRateRow, ...]:
        return tuple(sorted([*self._decisions, *self._fixings.values()], key=lambda r: (r.effective_date, r.kind)))

    @property
    def last_ecb_decision(self) -> date | None:
        return self._decisions[-1].effective_date if self._decisions else None

    def _from_history(self, day: date) -> EcbRateRow | None:
        if not self._decisions or day < self._decisions[0].effective_date or day > self._decisions[-1].effective_date:
            return None
        found = self._decisions[0]
        for row in self._decisions:
            if row.effective_date > day:
                break
            found = row
        return found

    def ecb_row_on(self, day: date) -> EcbRateRow:
        """The row giving the MRO rate in force on ``day`` (see ``ecb_rate_on``)."""
        row = self._fixings.get(day) or self._from_history(day)
        if row is None:
            raise MissingRate(semester_of(day), "ecb", ecb_hint(semester_of(day), self.last_ecb_decision))
        return row

    def ecb_rate_on(self, day: date) -> Decimal:
        """The ECB MRO rate in force on ``day`` (percent per year).

        Known from the first to the last decision row (a ``hold`` row tells the rate is still in
        force on its date); after the last decision it is unknown (``MissingRate``) unless a
        ``fixing`` row gives that very day. Never extrapolated.
        """
        return self.ecb_row_on(day).rate

    def default_penalty_rate(self, semester: Semester | str) -> Decimal:
        """C. com. L441-10 II: the ECB rate in force on 1 January (S1) or 1 July (S2), + 10 points."""
        sem = _as_semester(semester)
        try:
            return self.ecb_rate_on(sem.start) + DEFAULT_PENALTY_MARGIN
        except MissingRate:
            raise MissingRate(sem, "ecb", ecb_hint(sem, self.last_ecb_decision)) from None


# --- shipped data ---------------------------------------------------------------------------

def _data_text(name: str) -> str:
    return resources.files("relance.core.law.data").joinpath(name).read_text(encoding="utf-8")


def _csv_rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in io.StringIO(text) if not line.startswith("#") and line.strip()]
    return list(csv.DictReader(lines))


def _sources(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(" ; ") if s.strip())


def read_legal_rows(text: str) -> list[LegalRateRow]:
    """Rows of a ``legal_interest_rates.csv`` file; semesters whose rates are blank are skipped."""
    rows = []
    for raw in _csv_rows(text):
        if not raw["individual_pct"].strip() or not raw["other_pct"].strip():
            continue  # announced but unknown (status UNCONFIRMED): never guessed
        rows.append(LegalRateRow(
            Semester.parse(raw["semester"]), Decimal(raw["individual_pct"]), Decimal(raw["other_pct"]),
            raw["status"], raw["arrete"], _sources(raw["sources"]), raw["notes"],
        ))
    return rows


def read_ecb_rows(text: str) -> list[EcbRateRow]:
    """Rows of an ``ecb_mro_rates.csv`` file."""
    rows = []
    for raw in _csv_rows(text):
        kind = raw["kind"]
        if kind not in ("change", "hold", "fixing"):
            raise ValueError(f"type de ligne BCE inconnu : {kind!r}")
        rows.append(EcbRateRow(
            date.fromisoformat(raw["effective_date"]), Decimal(raw["mro_pct"]), kind,  # type: ignore[arg-type]
            raw["status"], _sources(raw["sources"]), raw["notes"],
        ))
    return rows


@functools.cache
def _shipped_tables() -> RateTables:
    return RateTables(read_legal_rows(_data_text("legal_interest_rates.csv")),
                      read_ecb_rows(_data_text("ecb_mro_rates.csv")))

