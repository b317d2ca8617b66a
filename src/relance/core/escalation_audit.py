"""The audit of an escalation history: every step each invoice received, checked against the
rules of ``core.escalation`` (« relance audit »). Pure: the service reads the event log and
hands over one :class:`Delivery` per invoice and step received.

Rules, numbered as in issue #10 and docs/architecture.md:

1. **forward only** — no step softer (lower rank) than the firmest one received before;
2. **once** — no step of a scenario received twice, at most one formal notice (unless a person
   asked for another, ``reissue``) and one hand-over to litigation per invoice;
3. **on time** — no step before ``due date + offset``, none before its spacing after the invoice's
   previous step, no hand-over before the end of the formal notice's deadline;
4. **no skipped step** — the first step after the due date is neither a formal notice nor a
   hand-over, and a hand-over follows a formal notice;
5. **true sentences** — a message claims no more previous reminders than each invoice received
   (« nos précédentes relances »), and a message to a consumer states no business-only law
   (C. com. L441-10, D441-5, the 40 € indemnity).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from .escalation import NOTICE_DEADLINE_DAYS, POSTAL_DAYS, Stage

#: what a message to a consumer must never state: the business-only law (C. com. L441-10 and
#: D441-5, the 40 € flat indemnity), in French or in English
BUSINESS_LAW = re.compile(r"L\.?\s?441-10|D\.?\s?441-5|indemnit[ée] forfaitaire|flat[- ]rate (?:recovery )?"
                          r"(?:fee|compensation|indemnity)|\b40(?:[,.]00)?\s?(?:€|EUR)|€\s?40\b", re.IGNORECASE)


def states_business_law(text: str) -> bool:
    return BUSINESS_LAW.search(text) is not None


@dataclass(frozen=True)
class Delivery:
    """One step one invoice received."""

    invoice: str  # its number
    on: date  # the business day it was received (sent, or the case opened)
    message: str  # what to look at: « relance 123 », « dossier 4 »
    stage: Stage
    rank: int
    due_date: date
    offset_days: int | None = None  # the step's offset in its scenario (None: unknown)
    spacing_days: int = 1  # what the step needs since the invoice's previous one
    claimed_prior: int | None = None  # previous reminders the message claims (None: claims none)
    consumer: bool = False
    business_law: bool = False  # the text states L441-10 / D441-5 / the 40 € indemnity
    reissue: bool = False  # a formal notice asked for again by a person (evented)
    notice_received_on: date | None = None  # (hand-over) the advice of delivery of the formal notice
    step: str = ""  # the step's identity (its scenario and position): no step twice


@dataclass(frozen=True)
class Violation:
    invoice: str
    on: date
    rule: int
    message: str
    reference: str

    def as_dict(self) -> dict[str, object]:
        return {"invoice": self.invoice, "date": self.on.isoformat(), "rule": self.rule, "message": self.message,
                "reference": self.reference}


def audit(deliveries: Iterable[Delivery], notice_deadline_days: int = NOTICE_DEADLINE_DAYS,
          postal_days: int = POSTAL_DAYS) -> list[Violation]:
    """Every rule broken, invoice by invoice, in the order the steps were received."""
    by_invoice: dict[str, list[Delivery]] = defaultdict(list)
    for d in deliveries:
        by_invoice[d.invoice].append(d)
    found: list[Violation] = []
    for number, history in sorted(by_invoice.items()):
        found += _audit_invoice(number, history, notice_deadline_days, postal_days)
    return found


def _audit_invoice(number: str, history: list[Delivery], deadline_days: int, postal_days: int) -> list[Violation]:
    out: list[Violation] = []

    def flag(d: Delivery, rule: int, message: str) -> None:
        out.append(Violation(number, d.on, rule, message, d.message))

    firmest = -1
    previous: Delivery | None = None
    received = 0  # reminders and formal notices received after the due date
    notice: Delivery | None = None
    handed_over = False
    steps_seen: set[str] = set()
    for d in history:  # in the order they were received (the log's order)
        if d.rank < firmest and not d.reissue:
            flag(d, 1, "étape moins ferme qu’une étape déjà reçue")
        if d.stage == Stage.FORMAL_NOTICE:
            if notice is not None and not d.reissue:
                flag(d, 2, f"deuxième mise en demeure (la première le {notice.on.isoformat()}) "
                           "sans demande d’une personne")
        if d.stage == Stage.LITIGATION and handed_over:
            flag(d, 2, "deuxième transmission au contentieux")
        if d.step and d.step in steps_seen and not d.reissue:
            flag(d, 2, "même étape reçue deux fois")
        if d.offset_days is not None and d.on < d.due_date + timedelta(days=d.offset_days) and not d.reissue:
            flag(d, 3, f"envoyée avant son heure (échéance {d.due_date.isoformat()}, J{d.offset_days:+d})")
        if (previous is not None and d.stage != Stage.LITIGATION and not d.reissue
                and d.on < previous.on + timedelta(days=d.spacing_days)):
            flag(d, 3, f"trop tôt après l’étape précédente du {previous.on.isoformat()} "
                       f"(au moins {d.spacing_days} jours)")
        if d.stage == Stage.LITIGATION:
            if notice is None:
                flag(d, 4, "transmise au contentieux sans mise en demeure")
            else:
                receipt = d.notice_received_on or notice.notice_received_on or notice.on + timedelta(days=postal_days)
                end = receipt + timedelta(days=deadline_days)
                if d.on <= end:
                    flag(d, 3, f"transmise au contentieux avant la fin du délai de la mise en demeure ({end.isoformat()})")
        if d.stage in (Stage.FORMAL_NOTICE, Stage.LITIGATION) and received == 0 and not d.reissue:
            flag(d, 4, "première étape après l’échéance : ni mise en demeure ni contentieux sans relance")
        if d.claimed_prior is not None and d.claimed_prior > received:
            flag(d, 5, f"le message parle de {d.claimed_prior} relance(s) précédente(s), la facture en a reçu {received}")
        if d.consumer and d.business_law:
            flag(d, 5, "message à un consommateur citant le droit des professionnels (L441-10, D441-5, 40 €)")
        firmest = max(firmest, d.rank)
        if d.stage in (Stage.REMINDER, Stage.FORMAL_NOTICE):
            received += 1
        if d.stage == Stage.FORMAL_NOTICE and (notice is None or d.reissue):
            notice = d
        handed_over = handed_over or d.stage == Stage.LITIGATION
        if d.step:
            steps_seen.add(d.step)
        previous = d
    return out
