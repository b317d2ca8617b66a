"""The rate tables in force: the shipped, sourced tables plus the semesters users added."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import connection, transaction

from relance.core.law import EcbRateRow, MissingRate, RateTables, Semester, legal_rate_row
from relance.errors import Conflict, InvalidInput

from .models import AddedRate
from .signals import rate_added

#: the prefix of ``Reminder.last_error`` for a reminder that failed for want of a rate (dunning writes
#: it, and requeues those reminders when ``signals.rate_added`` comes)
RATE_MISSING_PREFIX = "taux manquant"


_table_seen: set[str] = set()


def rate_tables() -> RateTables:
    if connection.alias not in _table_seen:
        if AddedRate._meta.db_table not in connection.introspection.table_names():
            return RateTables.shipped()  # a bare data folder (e.g. « relance law » alone): the shipped tables
        _table_seen.add(connection.alias)
    added = list(AddedRate.objects.all())
    legal = [legal_rate_row(a.semester, a.individual_rate, a.other_rate, a.source)
             for a in added if a.individual_rate is not None and a.other_rate is not None]
    ecb = [EcbRateRow.fixing(a.semester, a.ecb_rate, a.source) for a in added if a.ecb_rate is not None]
    return RateTables.load(legal, ecb)


def _rate(value: str | None, label: str) -> Decimal | None:
    if value is None:
        return None
    try:
        rate = Decimal(value.replace(",", ".").strip().rstrip("%").strip())
    except InvalidOperation as exc:
        raise InvalidInput(f"{label} : « {value} » n’est pas un taux") from exc
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise InvalidInput(f"{label} : {value} % n’est pas un taux plausible")
    return rate.quantize(Decimal("0.01"))


def add_rate(semester: str, *, individual: str | None = None, other: str | None = None, ecb: str | None = None,
             source: str = "", actor: str = "") -> AddedRate:
    """Add (or complete) a semester. Refuses to contradict a shipped, sourced value."""
    try:
        sem = Semester.parse(semester)
    except ValueError as exc:
        raise InvalidInput(f"semestre « {semester} » : attendu AAAA-S1 ou AAAA-S2") from exc
    ind, oth, mro = _rate(individual, "taux particuliers"), _rate(other, "taux autres cas"), _rate(ecb, "taux BCE")
    if (ind is None) != (oth is None):
        raise InvalidInput("l’intérêt légal a deux taux : donnez --particuliers et --autres ensemble")
    if ind is None and mro is None:
        raise InvalidInput("rien à ajouter : --particuliers et --autres, ou --bce")
    if not source.strip():
        raise InvalidInput("indiquez la source (--source « arrêté du … » ou « décision BCE du … »)")
    shipped = RateTables.shipped()
    if ind is not None and oth is not None:
        try:
            known = (shipped.legal_rate(sem, "individual"), shipped.legal_rate(sem, "other"))
        except MissingRate:
            known = None
        if known is not None and known != (ind, oth):
            raise Conflict(f"{sem} figure déjà dans les tables livrées ({known[0]} % / {known[1]} %) avec ses sources")
    if mro is not None:
        try:
            known_ecb = shipped.ecb_rate_on(sem.start)
        except MissingRate:
            known_ecb = None
        if known_ecb is not None and known_ecb != mro:
            raise Conflict(f"le taux BCE au {sem.start:%d/%m/%Y} figure déjà dans les tables livrées ({known_ecb} %)")
    with transaction.atomic():
        row, _ = AddedRate.objects.get_or_create(semester=str(sem), defaults={"source": source, "added_by": actor})
        if ind is not None:
            row.individual_rate, row.other_rate = ind, oth
        if mro is not None:
            row.ecb_rate = mro
        row.source = source if row.source == source else f"{row.source} ; {source}"
        row.save()
        # the apps waiting for this rate react (dunning requeues its formal notices), in this transaction
        rate_added.send(sender=AddedRate, semester=sem, legal=ind is not None, ecb=mro is not None)
    return row
