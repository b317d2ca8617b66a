"""Payment plans (*échéanciers*), pure: splitting an amount into instalments, checking a
custom schedule, the reminder dates around each instalment, and how payments and credit
notes are applied to the instalments.

Rules (documented choices):

* **equal split**: every instalment gets the amount divided by their number, rounded down to
  the cent; the cents left over go on the last one (100,00 € in 3 → 33,33 + 33,33 + 33,34);
* **custom schedule**: amounts positive with at most two decimals, dates strictly increasing,
  the first not in the past, at most :data:`MAX_INSTALMENTS`; the amounts must add up to the
  amount due *exactly*, otherwise nothing is saved and the message gives the gap;
* **dates**: monthly instalments keep the day of the month of the first one, clamped to the
  end of shorter months (31 January → 28 February → 31 March);
* **reminders**: J−3 before each instalment (on the previous business day when J−3 is not
  one), J+3 after an instalment still unpaid (on the next business day);
* **break**: an instalment still unpaid :data:`DEFAULT_GRACE_DAYS` days after its J+3 notice
  was sent breaks the plan (the notice says so: this is the usual *déchéance du terme* clause
  of a French schedule agreement, which the agreement letter states);
* **payments are applied in order**: each payment received on the plan's invoices fills the
  earliest instalment not yet paid; a credit note reduces the *last* instalments (it lowers
  the debt, it is not a payment ahead of time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from itertools import pairwise

from .calendar import BusinessCalendar
from .formatting import long_date, money

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_INSTALMENTS = 60
REMIND_BEFORE_DAYS = 3
MISSED_AFTER_DAYS = 3
#: days after the J+3 notice (sent) before an instalment still unpaid breaks the plan
DEFAULT_GRACE_DAYS = 8


class PlanInputError(ValueError):
    """A schedule that cannot be saved; the message says why, in French."""


@dataclass(frozen=True)
class InstalmentSpec:
    due_on: date
    amount: Decimal


def _month_end(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def monthly_dates(first: date, count: int, every_months: int = 1) -> list[date]:
    """``count`` dates, ``every_months`` apart, on the day of the month of ``first`` (clamped)."""
    if count < 1:
        raise PlanInputError("Un échéancier compte au moins une échéance.")
    if every_months < 1:
        raise PlanInputError("L’intervalle entre deux échéances est d’au moins un mois.")
    out = []
    for k in range(count):
        months = first.month - 1 + k * every_months
        year, month = first.year + months // 12, months % 12 + 1
        out.append(date(year, month, min(first.day, _month_end(year, month))))
    return out


def split_equal(total: Decimal, dates: Sequence[date], currency: str = "EUR") -> list[InstalmentSpec]:
    """Equal instalments, the cents remainder on the last one."""
    count = len(dates)
    if count < 1:
        raise PlanInputError("Un échéancier compte au moins une échéance.")
    if count > MAX_INSTALMENTS:
        raise PlanInputError(f"Un échéancier compte au plus {MAX_INSTALMENTS} échéances.")
    if total <= 0:
        raise PlanInputError("Le montant à échelonner doit être positif.")
    base = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    if base <= 0:
        raise PlanInputError(f"{money(total, currency)} ne se partagent pas en {count} échéances d’au moins 0,01 €.")
    last = total - base * (count - 1)
    return [InstalmentSpec(d, base) for d in dates[:-1]] + [InstalmentSpec(dates[-1], last)]


def equal_schedule(total: Decimal, first_due: date, count: int, every_months: int = 1,
                   currency: str = "EUR") -> list[InstalmentSpec]:
    return split_equal(total, monthly_dates(first_due, count, every_months), currency)


def validate_schedule(total: Decimal, instalments: Sequence[InstalmentSpec], today: date,
                      currency: str = "EUR") -> list[InstalmentSpec]:
    """Check a schedule against the amount to split; raise :class:`PlanInputError` on the
    first problem. Returns the instalments unchanged."""
    if not instalments:
        raise PlanInputError("Un échéancier compte au moins une échéance.")
    if len(instalments) > MAX_INSTALMENTS:
        raise PlanInputError(f"Un échéancier compte au plus {MAX_INSTALMENTS} échéances.")
    for n, item in enumerate(instalments, start=1):
        if item.amount <= 0:
            raise PlanInputError(f"Échéance {n} : le montant doit être positif.")
        if item.amount != item.amount.quantize(CENT):
            raise PlanInputError(f"Échéance {n} : le montant a plus de deux décimales.")
    if instalments[0].due_on < today:
        raise PlanInputError(f"La première échéance ({long_date(instalments[0].due_on)}) est déjà passée.")
    for n, (a, b) in enumerate(pairwise(instalments), start=2):
        if b.due_on <= a.due_on:
            raise PlanInputError(f"Échéance {n} : sa date ({long_date(b.due_on)}) doit suivre celle de l’échéance "
                                 f"précédente ({long_date(a.due_on)}).")
    scheduled = sum((i.amount for i in instalments), ZERO)
    if scheduled != total:
        gap = total - scheduled
        raise PlanInputError(
            f"Les échéances totalisent {money(scheduled, currency)}, mais le montant à échelonner est de "
            f"{money(total, currency)} : il {'manque' if gap > 0 else 'y a'} {money(abs(gap), currency)}"
            f"{'' if gap > 0 else ' de trop'}. Rien n’a été enregistré.")
    return list(instalments)


def reminder_before(due_on: date, calendar: BusinessCalendar) -> date:
    """J−3, or the business day before when J−3 is not one."""
    day = due_on - timedelta(days=REMIND_BEFORE_DAYS)
    return day if calendar.is_business_day(day) else calendar.previous(day)


def missed_notice_on(due_on: date, calendar: BusinessCalendar) -> date:
    """J+3, or the next business day."""
    return calendar.on_or_after(due_on + timedelta(days=MISSED_AFTER_DAYS))


def break_after(notice_sent_on: date, grace_days: int = DEFAULT_GRACE_DAYS) -> date:
    """The last day to pay after the J+3 notice; the plan breaks the day after."""
    return notice_sent_on + timedelta(days=grace_days)


@dataclass(frozen=True)
class InstalmentStatus:
    amount: Decimal
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    paid_on: date | None = None  # the day the payment completing it was received

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.credited - self.paid

    @property
    def settled(self) -> bool:
        return self.remaining <= 0


def apply_to_instalments(amounts: Sequence[Decimal], payments: Sequence[tuple[date, Decimal]],
                         credited: Decimal = ZERO) -> list[InstalmentStatus]:
    """Credits lower the last instalments first; payments (in the order given) fill the
    earliest instalment not yet paid. What exceeds the plan is left aside."""
    credit = [ZERO] * len(amounts)
    left = max(credited, ZERO)
    for i in reversed(range(len(amounts))):
        part = min(left, amounts[i])
        credit[i], left = part, left - part
    paid = [ZERO] * len(amounts)
    paid_on: list[date | None] = [None] * len(amounts)
    i = 0
    for on, amount in payments:
        rest = amount
        while rest > 0 and i < len(amounts):
            need = amounts[i] - credit[i] - paid[i]
            if need <= 0:
                i += 1
                continue
            part = min(need, rest)
            paid[i] += part
            rest -= part
            if paid[i] == amounts[i] - credit[i]:
                paid_on[i] = on
                i += 1
    return [InstalmentStatus(a, c, p, d) for a, c, p, d in zip(amounts, credit, paid, paid_on, strict=True)]


def instalment_key(organisation_id: int, instalment_id: int, phase: str) -> str:
    """Idempotency key of an instalment reminder; ``phase`` is ``before`` (J−3) or ``missed`` (J+3)."""
    raw = f"relance:instalment:{organisation_id}:{instalment_id}:{phase}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def agreement_key(organisation_id: int, plan_id: int, day: date) -> str:
    """Idempotency key of the email carrying a plan's agreement letter: once per plan and day
    (a double click sends once; a deliberate resend the next day is another message)."""
    raw = f"relance:plan-agreement:{organisation_id}:{plan_id}:{day.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
