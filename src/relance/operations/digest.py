"""The daily digest: one email per organisation and day to its administrators and collectors —
what left, what did not (and why), what awaits them (approvals, calls, letters to post, sends to
check) — carrying the event log's head hash of the day.

That hash is an anchor outside the database: removing the last events of the log leaves a valid
shorter chain, which ``relance verify-events --head HASH`` reveals against the mailbox.

Exactly once per organisation and day, through the event log (the organisation row is locked
while the log is read and the claim recorded):

* ``digest.sending`` — claimed, before the SMTP conversation (with the head, the recipients);
* ``digest.sent`` — the server accepted it; a later call for that day does nothing;
* ``digest.failed`` — nothing left: a failure before the content was transmitted (server down,
  refusal, or any other error while preparing it, e.g. an encoding), or the server refused the
  content (4xx/5xx): a later call tries again;
* ``digest.uncertain`` — the content was transmitted (the SMTP phases of
  ``channels.email.deliver``), then the connection dropped, no final reply came, or an error
  followed: it may have left. Never sent again automatically; the next digests say so
  (« bilans peut-être partis ») until a person checks the mailbox;
* a ``digest.sending`` without an outcome (the process died mid-way) is not sent again either:
  the message may have left; the command says so and a person checks the mailbox.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date
from email.utils import formataddr
from typing import Any, NoReturn

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q

from relance import clock
from relance.channels.email import deliver
from relance.channels.errors import HandOverDeclined, PermanentFailure, TemporaryFailure, UncertainDelivery
from relance.clock import today_for
from relance.core.formatting import de, long_date
from relance.dunning.models import CallTask, Reminder
from relance.errors import NotDelivered
from relance.events import kinds
from relance.events.models import Event
from relance.events.services import record_many
from relance.ledger.models import Membership, Organisation
from relance.ledger.queries import day_bounds
from relance.locks import lock_organisation
from relance.replies.queries import waiting_count

from .delivery import NotLeft, not_left

S = Reminder.Status
KINDS = kinds.DIGEST_KINDS
#: the last event of a day that may have left: never sent again automatically
MAYBE_LEFT = (kinds.DIGEST_SENDING, kinds.DIGEST_UNCERTAIN)
POSTAL = ("letter", "registered_letter")


@dataclass
class DayFigures:
    sent: dict[str, int] = field(default_factory=dict)  # channel -> messages that left on the day
    not_left: NotLeft = field(default_factory=NotLeft)
    awaiting_approval: int = 0
    calls: int = 0
    letters_to_post: int = 0
    registered_to_post: int = 0
    digests_maybe_left: list[date] = field(default_factory=list)  # earlier digests cut after their content
    replies_waiting: int = 0  # customers' replies to handle or to attach (relance.replies)
    undelivered: int = 0  # reminders whose bounce arrived on the day

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "not_left": self.not_left.as_dict(), "awaiting_approval": self.awaiting_approval,
                "calls": self.calls, "letters_to_post": self.letters_to_post,
                "replies_waiting": self.replies_waiting, "undelivered": self.undelivered,
                "registered_to_post": self.registered_to_post, "uncertain": self.not_left.uncertain.count,
                "digests_maybe_left": [d.isoformat() for d in self.digests_maybe_left]}


@dataclass
class DigestResult:
    organisation: str
    day: date
    outcome: str  # sent, already_sent, uncertain, no_recipient, failed
    recipients: list[str] = field(default_factory=list)
    head: dict[str, Any] | None = None
    figures: DayFigures | None = None
    message_id: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"organisation": self.organisation, "day": self.day.isoformat(), "outcome": self.outcome,
                "recipients": self.recipients, "head": self.head, "message_id": self.message_id, "error": self.error,
                "figures": self.figures.as_dict() if self.figures else None}

    def text(self) -> str:
        day = long_date(self.day)
        texts = {
            "sent": f"bilan du {day} envoyé à {', '.join(self.recipients)}",
            "already_sent": f"bilan du {day} déjà envoyé (jamais deux fois)",
            "uncertain": f"bilan du {day} : un envoi a été interrompu, il est peut-être parti — vérifiez la "
                         "messagerie des destinataires ; il n’est pas renvoyé automatiquement",
            "no_recipient": f"bilan du {day} non envoyé : aucun administrateur ni chargé de recouvrement n’a "
                            "d’adresse e-mail (page « Utilisateurs »)",
            "failed": f"bilan du {day} non envoyé : {self.error} (il sera retenté au prochain « relance digest »)",
        }
        line = f"{self.organisation} : {texts.get(self.outcome, self.outcome)}"
        if self.head and self.outcome in ("sent", "already_sent"):
            line += f"\n  empreinte du journal : n° {self.head['seq']}, {self.head['hash']}"
        return line


class DigestNotSent(NotDelivered):
    """Nothing left (server down, refusal): ``digest.failed`` is recorded, a later call tries again."""

    def __init__(self, result: DigestResult):
        self.result = result
        super().__init__(f"{result.organisation} : {result.text().split(' : ', 1)[1]}")


def recipients(org: Organisation) -> list[str]:
    """Administrators and collectors with an address (the read-only members are not sent it)."""
    rows = (Membership.objects.filter(organisation=org, role__in=(Membership.Role.ADMIN, Membership.Role.COLLECTOR),
                                      user__is_active=True)
            .exclude(user__email="").select_related("user").order_by("user__username"))
    seen: list[str] = []
    for m in rows:
        name = m.user.get_full_name() or m.user.get_username()
        address = formataddr((name, m.user.email))
        if address not in seen:
            seen.append(address)
    return seen


def day_figures(org: Organisation, day: date) -> DayFigures:
    start, end = day_bounds(org, day)
    reminders = Reminder.objects.filter(organisation=org)
    figures = DayFigures()
    rows = (reminders.filter(status=S.SENT, sent_at__gte=start, sent_at__lt=end).values_list("channel")
            .annotate(n=Count("pk")).order_by())
    figures.sent = {channel: n for channel, n in rows}
    figures.not_left = not_left(reminders.filter(planned_for__lte=day))
    counts = reminders.aggregate(
        awaiting=Count("pk", filter=Q(status=S.AWAITING_APPROVAL)),
        letters=Count("pk", filter=Q(status=S.SENT, channel__in=POSTAL, sent_at__gte=start, sent_at__lt=end)),
        registered=Count("pk", filter=Q(status=S.SENT, channel="registered_letter", sent_at__gte=start,
                                        sent_at__lt=end)),
    )
    figures.awaiting_approval, figures.letters_to_post = counts["awaiting"], counts["letters"]
    figures.registered_to_post = counts["registered"]
    figures.calls = CallTask.objects.filter(organisation=org, status=CallTask.Status.OPEN, due_on__lte=day).count()
    figures.digests_maybe_left = maybe_left(org, day)
    figures.replies_waiting = waiting_count(org)
    figures.undelivered = reminders.filter(status=S.UNDELIVERED, bounced_at__gte=start, bounced_at__lt=end).count()
    return figures


def head_of_day(org: Organisation, day: date) -> dict[str, Any] | None:
    """The last event recorded before the end of ``day`` (the organisation's time zone)."""
    _, end = day_bounds(org, day)
    row = (Event.objects.filter(organisation=org, occurred_at__lt=end).order_by("-seq")
           .values_list("seq", "hash", "occurred_at").first())
    if row is None:
        return None
    return {"seq": row[0], "hash": row[1], "at": row[2].isoformat()}


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def compose(org: Organisation, day: date, figures: DayFigures, head: dict[str, Any] | None) -> tuple[str, str]:
    """Subject and text of the digest, in French."""
    sent_total = sum(figures.sent.values())
    missing = figures.not_left.total
    subject = f"Relances du {long_date(day)} — {org.legal_name} : {_plural(sent_total, 'envoi', 'envois')}"
    if missing:
        subject += f", {missing} non parti{'s' if missing > 1 else ''}"
    lines = ["Bonjour,", "", f"Voici le bilan des relances {de(org.legal_name)} pour la journée du {long_date(day)}.",
             ""]

    lines.append("Ce qui est parti")
    emails = figures.sent.get("email", 0)
    letters = figures.sent.get("letter", 0) + figures.sent.get("registered_letter", 0)
    others = sent_total - emails - letters
    if emails:
        lines.append(f"  • {_plural(emails, 'e-mail', 'e-mails')}")
    if letters:
        registered = figures.sent.get("registered_letter", 0)
        extra = f", dont {registered} en recommandé avec avis de réception" if registered else ""
        lines.append(f"  • {_plural(letters, 'courrier', 'courriers')}{extra}")
    if others:
        lines.append(f"  • {_plural(others, 'autre action', 'autres actions')} (appels, contentieux)")
    if not sent_total:
        lines.append("  • rien ce jour")
    lines.append("")

    lines.append("Ce qui n’est pas parti")
    labels = {"failed": ("relance en échec", "relances en échec"),
              "retrying": ("relance en attente d’un nouvel essai automatique",
                           "relances en attente d’un nouvel essai automatique"),
              "uncertain": ("envoi à vérifier", "envois à vérifier")}
    for problem in figures.not_left:
        if problem.count:
            one, many = labels[problem.kind]
            reasons = " ; ".join(f"{r} ({n})" for r, n in problem.reasons)
            lines.append(f"  • {_plural(problem.count, one, many)} — {reasons}")
    if not missing:
        lines.append("  • rien : tout ce qui devait partir est parti")
    lines.append("")

    lines.append("Ce qui vous attend")
    waiting = []
    if figures.awaiting_approval:
        waiting.append(_plural(figures.awaiting_approval, "relance à valider (page « À valider »)",
                               "relances à valider (page « À valider »)"))
    if figures.replies_waiting:
        waiting.append(_plural(figures.replies_waiting, "réponse de client à lire (page « Réponses ») : ses relances "
                               "attendent votre décision", "réponses de clients à lire (page « Réponses ») : leurs "
                               "relances attendent votre décision"))
    if figures.undelivered:
        waiting.append(_plural(figures.undelivered, "relance revenue non distribuée : l’adresse est signalée, la "
                               "suite part par courrier ; corrigez l’adresse si vous la connaissez",
                               "relances revenues non distribuées : les adresses sont signalées, la suite part par "
                               "courrier ; corrigez-les si vous les connaissez"))
    if figures.calls:
        waiting.append(_plural(figures.calls, "appel à passer", "appels à passer"))
    if figures.letters_to_post:
        extra = (f", dont {figures.registered_to_post} en recommandé : notez le numéro de suivi"
                 if figures.registered_to_post else "")
        waiting.append(_plural(figures.letters_to_post, "courrier à imprimer et à poster",
                               "courriers à imprimer et à poster") + extra)
    if figures.not_left.uncertain.count:
        waiting.append(_plural(figures.not_left.uncertain.count, "envoi à vérifier : dites s’il est parti ou renvoyez-le",
                               "envois à vérifier : dites s’ils sont partis ou renvoyez-les"))
    if figures.not_left.failed.count:
        waiting.append(_plural(figures.not_left.failed.count, "relance en échec à corriger puis renvoyer",
                               "relances en échec à corriger puis renvoyer"))
    if figures.digests_maybe_left:
        days = ", ".join(long_date(d) for d in figures.digests_maybe_left[-5:])
        waiting.append(f"bilan peut-être parti, jamais renvoyé : {days} — vérifiez s’il a été reçu"
                       if len(figures.digests_maybe_left) == 1 else
                       f"bilans peut-être partis, jamais renvoyés : {days} — vérifiez s’ils ont été reçus")
    lines += [f"  • {w}" for w in waiting] or ["  • rien"]
    lines += ["", "Le détail est sur la page « Le travail du jour » de l’application.", ""]

    lines.append("Empreinte du journal des événements")
    if head:
        lines += [
            f"  En fin de journée, le dernier événement est le n° {head['seq']} ; son empreinte :",
            f"  {head['hash']}",
            "  Gardez ce message : il prouve l’état du journal à cette date. La commande",
            f"    relance verify-events --org {org.slug} --head {head['hash']}",
            "  vérifie que cet événement y est toujours, donc qu’aucun événement n’a été retiré depuis.",
        ]
    else:
        lines.append("  Le journal ne compte encore aucun événement.")
    lines += ["", "—", "Message automatique de relance, envoyé une fois par jour."]
    return subject, "\n".join(lines) + "\n"


def _claim(org: Organisation, day: date, to: list[str]) -> tuple[str, dict[str, Any] | None, str]:
    """Lock the organisation, read the day's digest events, and claim it when allowed.
    Returns (state, head, message id): state is ``claimed``, ``already_sent`` or ``uncertain``."""
    with transaction.atomic():
        lock_organisation(org)
        last = (Event.objects.filter(organisation=org, kind__in=KINDS, data__day=day.isoformat())
                .order_by("-seq").values_list("kind", flat=True).first())
        if last == kinds.DIGEST_SENT:
            return "already_sent", None, ""
        if last in MAYBE_LEFT:
            return "uncertain", None, ""
        head = head_of_day(org, day)
        key = hashlib.sha256(f"digest:{org.pk}:{day.isoformat()}".encode()).hexdigest()[:24]
        sender = org.sender_email or org.reply_to_email
        domain = sender.rsplit("@", 1)[1] if "@" in sender else "relance.invalid"
        message_id = f"<relance.digest.{key}.{uuid.uuid4().hex[:12]}@{domain}>"
        record_many(org, [kinds.digest(kinds.DIGEST_SENDING, data={"day": day.isoformat(), "recipients": to,
                                                                   "head": head, "message_id": message_id})])
    return "claimed", head, message_id


def send_digest(org: Organisation, day: date | None = None) -> DigestResult:
    """Send the digest of ``day`` (default: the organisation's today) once; see the module.
    Returns what happened (sent, already_sent, uncertain, no_recipient); raises
    :class:`DigestNotSent` when nothing could leave (the scheduler then tries again later)."""
    day = day or today_for(org)
    to = recipients(org)
    result = DigestResult(org.slug, day, "no_recipient", recipients=to)
    if not to:
        return result
    state, head, message_id = _claim(org, day, to)
    if state == "already_sent":
        sent = (Event.objects.filter(organisation=org, kind=kinds.DIGEST_SENT, data__day=day.isoformat())
                .values_list("data", flat=True).first()) or {}
        result.outcome, result.head, result.message_id = "already_sent", sent.get("head"), sent.get("message_id", "")
        return result
    if state == "uncertain":
        result.outcome = "uncertain"
        return result
    figures = day_figures(org, day)
    subject, body = compose(org, day, figures, head)
    result.figures, result.head, result.message_id = figures, head, message_id
    sender = formataddr((org.sender_name or org.legal_name, org.sender_email or org.reply_to_email
                         or f"relances@{message_id.rsplit('@', 1)[1].rstrip('>')}"))
    message = EmailMultiAlternatives(subject, body, sender, to, headers={
        "Message-ID": message_id, "Auto-Submitted": "auto-generated", "Content-Language": "fr",
        "X-Relance-Digest": f"{org.slug} {day.isoformat()}"})
    data = {"day": day.isoformat(), "recipients": to, "head": head, "message_id": message_id,
            "figures": figures.as_dict()}
    handed_over = False

    def handing_over() -> bool:
        nonlocal handed_over
        handed_over = True  # the content starts to leave: from here, it may have left
        return True

    try:
        deliver(message, on_handover=handing_over)
    except (TemporaryFailure, PermanentFailure, HandOverDeclined) as exc:
        # before the content, or the content refused by the server: nothing left
        return _failed(org, result, data, f"serveur SMTP injoignable ou refus : {exc}", exc)
    except Exception as exc:
        if isinstance(exc, UncertainDelivery) or handed_over:
            result.outcome, result.error = "uncertain", (str(exc) or type(exc).__name__)[:500]
            record_many(org, [kinds.digest(kinds.DIGEST_UNCERTAIN, data=data, error=result.error)], at=clock.now())
            return result
        # any other error before the content (an encoding, a file…): recorded, tried again later
        return _failed(org, result, data, f"erreur avant l’envoi : {type(exc).__name__}: {exc}", exc)
    record_many(org, [kinds.digest(kinds.DIGEST_SENT, data=data)], at=clock.now())
    result.outcome = "sent"
    return result


def _failed(org: Organisation, result: DigestResult, data: dict[str, Any], error: str, exc: Exception) -> NoReturn:
    result.outcome, result.error = "failed", error[:500]
    record_many(org, [kinds.digest(kinds.DIGEST_FAILED, data=data, error=result.error)], at=clock.now())
    raise DigestNotSent(result) from exc


def maybe_left(org: Organisation, before: date) -> list[date]:
    """The days before ``before`` whose digest may have left without anyone knowing (transmitted,
    then cut; or its process died mid-way): never resent, said by the next digests."""
    last: dict[str, str] = {}
    for day, kind in (Event.objects.filter(organisation=org, kind__in=KINDS).order_by("seq")
                      .values_list("data__day", "kind")):
        last[str(day)] = kind
    return sorted(date.fromisoformat(d) for d, kind in last.items() if kind in MAYBE_LEFT and d < before.isoformat())
