"""What a person does with a reply: confirm its effect, change its category, attach it to
another customer, set it aside, reopen it, or revert an effect already applied. Each is one
transition of ``core.replies.inbox`` and one event; the web inbox, the API and the CLI call these.

A person's category is kept beside the classifier's (``Reply.predicted``): the classifier's
accuracy on the replies people reviewed is measured from them (:func:`accuracy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from relance import clock
from relance.clock import today_for
from relance.core import formatting as fmt
from relance.core.replies.inbox import ForbiddenMove, ReplyState, move
from relance.errors import Conflict, InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.holds.models import Hold
from relance.holds.services.holds import lift, pause
from relance.ledger.models import Customer, Organisation
from relance.locks import lock_customer_invoices, lock_organisation, lock_row

from ..models import CATEGORIES, Mailbox, Reply
from .effects import REVIEW_REASON, apply, plan_for, revert

CATEGORY_CODES = tuple(code for code, _ in CATEGORIES)


def hold_for_review(reply: Reply, *, actor: str, today: date) -> None:
    """Hold the customer's sequence until a person handled ``reply`` (in the caller's transaction)."""
    assert reply.customer is not None
    hold = pause(reply.organisation, reply.customer, None, actor=actor, today=today,
                 reason=f"{REVIEW_REASON} (reçue le {fmt.long_date(reply.received_on)})")
    reply.review_hold = hold
    reply.save(update_fields=["review_hold"])


def _release(reply: Reply, actor: str, today: date) -> None:
    hold = reply.review_hold
    if hold is not None and hold.state == Hold.State.ACTIVE:
        lift(reply.organisation, hold, actor=actor, note="réponse traitée", today=today)


def _locked(organisation: Organisation, reply_id: int, customer_ids: list[int]) -> Reply:
    lock_customer_invoices(organisation, customer_ids)
    lock_organisation(organisation)
    reply = lock_row(Reply, organisation, reply_id)
    if reply is None:
        raise NotFound("réponse introuvable")
    return reply


def _start(organisation: Organisation, reply: Reply | int, *also: int) -> Reply:
    reply_id = reply if isinstance(reply, int) else reply.pk
    current = Reply.objects.filter(organisation=organisation, pk=reply_id).values_list("customer_id", flat=True).first()
    ids = [i for i in (current, *also) if i]
    return _locked(organisation, reply_id, ids)


def _moved(reply: Reply, target: str, actor: str, **more: Any) -> None:
    try:
        kind = kinds.known(move(reply.state, target))
    except ForbiddenMove as exc:
        raise Conflict(str(exc)) from exc
    source = reply.state
    reply.state = target
    reply.reviewed_by, reply.reviewed_at = actor[:150], clock.now()
    reply.save(update_fields=["state", "reviewed_by", "reviewed_at", "effect", "category", "customer",
                              "reminder", "attached_by"])
    record_many(reply.organisation, [kinds.reply_moved(kind, reply=reply.pk, customer_id=reply.customer_id,
                                                       source=source, target=target, actor=actor, **more)])


def confirm(organisation: Organisation, reply: Reply | int, *, actor: str, category: str | None = None,
            all_invoices: bool = False, today: date | None = None) -> Reply:
    """Apply the effect of the reply's category (changed first when ``category`` is given)."""
    today = today or today_for(organisation)
    with transaction.atomic():
        reply = _start(organisation, reply)
        if category is not None and category != reply.category:
            _reclassify(reply, category, actor)
        if reply.state != ReplyState.TO_REVIEW:
            raise Conflict(f"Cette réponse est « {reply.get_state_display()} » : rien à confirmer.")
        plan = plan_for(reply, Mailbox.objects.filter(organisation=organisation).first())
        if plan.needs_person and not (all_invoices and plan.action.value == "litige"):
            raise InvalidInput(f"Impossible d’appliquer : {plan.why}.")
        reply.effect = {**apply(reply, plan, actor=actor, today=today, all_invoices=all_invoices),
                        "action": plan.action.value, "automatic": False}
        _release(reply, actor, today)
        _moved(reply, ReplyState.APPLIED, actor, category=reply.category, effect=reply.effect)
    return reply


def _reclassify(reply: Reply, category: str, actor: str) -> None:
    if category not in CATEGORY_CODES:
        raise InvalidInput(f"catégorie inconnue : « {category} » (attendu : {', '.join(CATEGORY_CODES)})")
    before = reply.category
    reply.category = category
    reply.save(update_fields=["category"])
    record_many(reply.organisation, [kinds.reply_reclassified(reply=reply.pk, customer_id=reply.customer_id,
                                                              predicted=reply.predicted, before=before,
                                                              after=category, actor=actor)])


def reclassify(organisation: Organisation, reply: Reply | int, category: str, *, actor: str) -> Reply:
    """Change the category without applying anything (an applied reply is reverted first)."""
    with transaction.atomic():
        reply = _start(organisation, reply)
        if reply.state == ReplyState.APPLIED:
            raise Conflict("Annulez d’abord la suite donnée à cette réponse.")
        _reclassify(reply, category, actor)
    return reply


def attach_to(organisation: Organisation, reply: Reply | int, customer: Customer, *, actor: str,
              today: date | None = None) -> Reply:
    """Attach the reply to ``customer`` (« à rattacher », or attached to the wrong one): it is then
    « à traiter » and holds that customer's sequence."""
    today = today or today_for(organisation)
    if customer.organisation_id != organisation.pk:
        raise NotFound("client introuvable")
    with transaction.atomic():
        reply = _start(organisation, reply, customer.pk)
        if reply.state not in (ReplyState.TO_ATTACH, ReplyState.TO_REVIEW):
            raise Conflict(f"Cette réponse est « {reply.get_state_display()} » : annulez ou rouvrez-la d’abord.")
        if reply.customer_id == customer.pk:
            return reply
        _release(reply, actor, today)
        previous = reply.customer_id
        reply.customer, reply.reminder, reply.attached_by = customer, None, Reply.AttachedBy.PERSON
        _moved(reply, ReplyState.TO_REVIEW, actor, previous_customer=previous)
        hold_for_review(reply, actor=actor, today=today)
    return reply


def dismiss(organisation: Organisation, reply: Reply | int, *, actor: str, note: str = "",
            today: date | None = None) -> Reply:
    """Nothing to do: the sequence resumes (the category a person keeps counts for the accuracy)."""
    today = today or today_for(organisation)
    with transaction.atomic():
        reply = _start(organisation, reply)
        _release(reply, actor, today)
        _moved(reply, ReplyState.DISMISSED, actor, note=note)
    return reply


def reopen(organisation: Organisation, reply: Reply | int, *, actor: str, today: date | None = None) -> Reply:
    today = today or today_for(organisation)
    with transaction.atomic():
        reply = _start(organisation, reply)
        if reply.customer_id is None:
            raise Conflict("Rattachez d’abord cette réponse à un client.")
        _moved(reply, ReplyState.TO_REVIEW, actor)
        hold_for_review(reply, actor=actor, today=today)
    return reply


def undo(organisation: Organisation, reply: Reply | int, *, actor: str, today: date | None = None) -> list[str]:
    """Revert the effect applied (automatically or confirmed): the reply is « à traiter » again,
    and holds the sequence until a person decides. What could not be undone is returned."""
    today = today or today_for(organisation)
    with transaction.atomic():
        reply = _start(organisation, reply)
        if reply.state != ReplyState.APPLIED or reply.kind == Reply.Kind.BOUNCE:
            raise Conflict("Aucune suite à annuler pour cette réponse.")
        left = revert(reply, actor=actor, today=today)
        undone = reply.effect
        reply.effect = {}
        _moved(reply, ReplyState.TO_REVIEW, actor, undone=undone, left=left)
        hold_for_review(reply, actor=actor, today=today)
    return left


# ------------------------------------------------------------------------------------------
# The classifier's accuracy as people see it
# ------------------------------------------------------------------------------------------


@dataclass
class Accuracy:
    reviewed: int = 0
    agreed: int = 0
    by_category: dict[str, list[int]] = field(default_factory=dict)  # category -> [agreed, reviewed]
    corrections: list[tuple[str, str, int]] = field(default_factory=list)  # (predicted, kept, count)

    @property
    def rate(self) -> float | None:
        return self.agreed / self.reviewed if self.reviewed else None

    def as_dict(self) -> dict[str, Any]:
        return {"reviewed": self.reviewed, "agreed": self.agreed, "rate": self.rate,
                "by_category": self.by_category,
                "corrections": [{"predicted": p, "kept": k, "count": n} for p, k, n in self.corrections]}


def accuracy(organisation: Organisation) -> Accuracy:
    """The classifier against the people who reviewed its replies: a reply counts once a person
    confirmed, corrected or set it aside (bounces and replies never looked at do not count)."""
    result = Accuracy()
    pairs: dict[tuple[str, str], int] = {}
    rows = (Reply.objects.filter(organisation=organisation, kind=Reply.Kind.REPLY).exclude(reviewed_by="")
            .values_list("predicted", "category"))
    for predicted, kept in rows:
        result.reviewed += 1
        counts = result.by_category.setdefault(kept, [0, 0])
        counts[1] += 1
        if predicted == kept:
            result.agreed += 1
            counts[0] += 1
        else:
            pairs[(predicted, kept)] = pairs.get((predicted, kept), 0) + 1
    result.corrections = sorted(((p, k, n) for (p, k), n in pairs.items()), key=lambda x: -x[2])
    return result
