"""What did not leave, and why: failed reminders, those waiting for an automatic retry (planned
again with a next attempt after a temporary failure) and those to check (« À vérifier »),
counted with their reason. « Le travail du jour », the dashboard, ``relance run`` and the daily
digest show the same figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from relance.dunning.models import Reminder

S = Reminder.Status

#: the three kinds of « not left », in the order they are shown
FAILED, RETRYING, UNCERTAIN = "failed", "retrying", "uncertain"
KINDS = (FAILED, RETRYING, UNCERTAIN)
LABELS = {FAILED: "en échec", RETRYING: "nouvel essai prévu", UNCERTAIN: "à vérifier"}
#: the same after a count: « 1 nouvel essai prévu », « 12 nouveaux essais prévus »
COUNTED = {FAILED: ("en échec", "en échec"), RETRYING: ("nouvel essai prévu", "nouveaux essais prévus"),
           UNCERTAIN: ("à vérifier", "à vérifier")}

#: reasons longer than this are cut (the page links to each reminder for the whole message)
REASON_LENGTH = 90


def reason_of(last_error: str) -> str:
    """The reason of a failure, without its details: « serveur SMTP injoignable » for
    « serveur SMTP injoignable : [Errno 111] Connection refused » — so that 12 reminders failing
    for one cause count as one line."""
    text = " ".join((last_error or "").split())
    if not text:
        return "raison non enregistrée"
    head = text.split(" : ", 1)[0].split(" (", 1)[0].strip()
    return head if len(head) <= REASON_LENGTH else head[: REASON_LENGTH - 1] + "…"


def retrying_q() -> Q:
    return Q(status=S.PLANNED, attempts__gt=0, next_attempt_at__isnull=False)


def kind_q(kind: str) -> Q:
    if kind == RETRYING:
        return retrying_q()
    return Q(status=S.FAILED if kind == FAILED else S.UNCERTAIN)


@dataclass
class Problem:
    kind: str
    count: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)  # (reason, reminders), most frequent first

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def counted(self) -> str:
        """« 12 nouveaux essais prévus », « 1 nouvel essai prévu »."""
        one, many = COUNTED[self.kind]
        return f"{self.count} {one if self.count <= 1 else many}"

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "reasons": [{"reason": r, "count": n} for r, n in self.reasons]}


@dataclass
class NotLeft:
    failed: Problem = field(default_factory=lambda: Problem(FAILED))
    retrying: Problem = field(default_factory=lambda: Problem(RETRYING))
    uncertain: Problem = field(default_factory=lambda: Problem(UNCERTAIN))

    def __iter__(self) -> Any:
        return iter((self.failed, self.retrying, self.uncertain))

    @property
    def total(self) -> int:
        return self.failed.count + self.retrying.count + self.uncertain.count

    def as_dict(self) -> dict[str, Any]:
        return {p.kind: p.as_dict() for p in self}

    def lines(self) -> list[str]:
        """One French line per kind that has reminders: « 12 nouveaux essais prévus — serveur SMTP injoignable (12) »."""
        out = []
        for p in self:
            if p.count:
                reasons = " ; ".join(f"{r} ({n})" for r, n in p.reasons)
                out.append(f"{p.counted} — {reasons}")
        return out


def not_left(reminders: QuerySet[Reminder]) -> NotLeft:
    """The failed, retrying and uncertain reminders of ``reminders``, per reason (one query)."""
    wanted = retrying_q() | Q(status__in=(S.FAILED, S.UNCERTAIN))
    rows = reminders.filter(wanted).order_by().values_list("status", "last_error").annotate(n=Count("pk"))
    result = NotLeft()
    per: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    for status, error, n in rows:
        kind = FAILED if status == S.FAILED else UNCERTAIN if status == S.UNCERTAIN else RETRYING
        reason = reason_of(error)
        per[kind][reason] = per[kind].get(reason, 0) + n
    for problem in result:
        counts = per[problem.kind]
        problem.count = sum(counts.values())
        problem.reasons = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return result


def of_ids(ids: Iterable[int]) -> NotLeft:
    return not_left(Reminder.objects.filter(pk__in=list(ids)))


def held_back(organisation: Any, day: Any, channels: Sequence[str]) -> dict[str, int]:
    """The reminders due by ``day`` that stay planned because their channel is held back."""
    if not channels:
        return {}
    rows = (Reminder.objects.filter(organisation=organisation, status=S.PLANNED, planned_for__lte=day,
                                    channel__in=list(channels))
            .values_list("channel").annotate(n=Count("pk")).order_by())
    return {channel: n for channel, n in rows}
