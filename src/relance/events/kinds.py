"""Every kind of event the log holds: its code, its French label and the constructor that
builds it (issue 14).

An event's code and data are hashed into the organisation's chain (``core.hashchain``): a
constructor builds exactly the ``NewEvent`` the call sites wrote as literals before, key for key
(``tests/integration/test_event_kinds.py`` compares their canonical JSON). Changing what a kind
carries changes what later events are chained to: add a key, never rename one.

A kind is a ``str`` (its code): ``Event.objects.filter(kind=kinds.REMINDER_SENT)`` and
``event.kind == kinds.REMINDER_SENT`` read as before. Its label is translated when it is read
(``str(kinds.REMINDER_SENT.label)``, or :func:`label` for a stored code).

To add a kind: a constant ``_kind("thing.happened", _("Chose arrivée"))`` in its section, and
below it a constructor decorated ``@_builds(THING_HAPPENED)`` taking the ids and the data as
typed keyword arguments. A kind no longer written keeps its constant and label (old logs are
still shown) and its constructor.

This module is part of the event log's base layer: it imports no domain app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .services import NewEvent

SYSTEM = "system"


class Kind(str):
    """An event kind: the code stored in ``Event.kind`` (this string itself) and its label."""

    label: str | Promise

    def __new__(cls, code: str, label: str | Promise) -> Kind:
        kind = super().__new__(cls, code)
        kind.label = label
        return kind

    @property
    def code(self) -> str:
        return str.__str__(self)

    def event(self, *, customer_id: int | None = None, invoice_id: int | None = None,
              reminder_id: int | None = None, actor: str = SYSTEM, data: Mapping[str, Any] | None = None) -> NewEvent:
        """The untyped constructor, for a kind chosen at run time (a state machine's transition):
        prefer the kind's own constructor."""
        return NewEvent(self.code, customer_id=customer_id, invoice_id=invoice_id, reminder_id=reminder_id,
                        data=dict(data or {}), actor=actor)


#: every kind, by code
KINDS: dict[str, Kind] = {}
#: the constructor of each kind, by code (kinds chosen at run time share one)
CONSTRUCTORS: dict[str, Callable[..., NewEvent]] = {}

_F = TypeVar("_F", bound=Callable[..., NewEvent])


def _kind(code: str, label: str | Promise) -> Kind:
    if code in KINDS:
        raise ValueError(f"event kind {code} declared twice")
    KINDS[code] = kind = Kind(code, label)
    return kind


def _builds(*kinds: Kind) -> Callable[[_F], _F]:
    def register(constructor: _F) -> _F:
        for kind in kinds:
            CONSTRUCTORS[kind.code] = constructor
        return constructor
    return register


def label(code: str) -> str:
    """The label of a stored code in the active language, or the code itself when it is unknown."""
    kind = KINDS.get(code)
    return str(kind.label) if kind is not None else code


def known(code: str) -> Kind:
    """The kind of this code (``KeyError`` for a code no version ever wrote)."""
    return KINDS[code]


# ------------------------------------------------------------------------------------------
# Imports, invoices, payments (ledger)
# ------------------------------------------------------------------------------------------

IMPORT_COMPLETED = _kind("import.completed", _("Import terminé"))
INVOICE_IMPORTED = _kind("invoice.imported", _("Facture importée"))
INVOICE_UPDATED = _kind("invoice.updated", _("Facture modifiée"))
INVOICE_SETTLED = _kind("invoice.settled", _("Facture soldée"))
INVOICE_REOPENED = _kind("invoice.reopened", _("Facture rouverte"))
INVOICE_MOVED = _kind("invoice.moved", _("Facture rattachée à un autre client"))
INVOICE_WRITTEN_OFF = _kind("invoice.written_off", _("Créance passée en perte"))
PAYMENT_RECORDED = _kind("payment.recorded", _("Paiement enregistré"))
CREDIT_NOTE_RECORDED = _kind("credit_note.recorded", _("Avoir enregistré"))
PAYMENT_ALLOCATED = _kind("payment.allocated", _("Paiement affecté"))
CREDIT_NOTE_ALLOCATED = _kind("credit_note.allocated", _("Avoir affecté"))
PAYMENT_UPDATED = _kind("payment.updated", _("Paiement modifié"))
CREDIT_NOTE_UPDATED = _kind("credit_note.updated", _("Avoir modifié"))
PAYMENT_REMOVED = _kind("payment.removed", _("Paiement retiré"))
CREDIT_NOTE_REMOVED = _kind("credit_note.removed", _("Avoir retiré"))
CUSTOMER_ALIAS_CREATED = _kind("customer.alias_created", _("Nouvel alias du client"))
CUSTOMER_ALIAS_CHANGED = _kind("customer.alias_changed", _("Alias du client modifié"))
CUSTOMER_UPDATED = _kind("customer.updated", _("Client modifié"))


@_builds(IMPORT_COMPLETED)
def import_completed(*, report: Mapping[str, Any], actor: str = SYSTEM) -> NewEvent:
    """An import's report (``report.as_dict()``; an e-invoice import puts ``source`` first)."""
    return IMPORT_COMPLETED.event(actor=actor, data=report)


@_builds(INVOICE_IMPORTED)
def invoice_imported(*, customer_id: int, invoice_id: int, number: str, amount: Any, due_date: Any,
                     actor: str = SYSTEM, **more: Any) -> NewEvent:
    """``more``: what the format adds (``source``, ``file``, ``type_code``…)."""
    return INVOICE_IMPORTED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor,
                                  data={"number": number, "amount": amount, "due_date": due_date, **more})


@_builds(INVOICE_UPDATED)
def invoice_updated(*, customer_id: int, invoice_id: int, number: str, source: str, actor: str = SYSTEM,
                    **more: Any) -> NewEvent:
    """``more``: ``changes`` (field: [before, after]), ``match``, ``file``, ``pdf_added``…"""
    return INVOICE_UPDATED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor,
                                 data={"number": number, "source": source, **more})


@_builds(INVOICE_SETTLED)
def invoice_settled(*, customer_id: int, invoice_id: int, number: str, status: str, on: date | None,
                    actor: str = SYSTEM) -> NewEvent:
    return INVOICE_SETTLED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor,
                                 data={"number": number, "status": status, "on": on})


@_builds(INVOICE_REOPENED)
def invoice_reopened(*, customer_id: int, invoice_id: int, number: str, amount_due: Decimal,
                     actor: str = SYSTEM) -> NewEvent:
    return INVOICE_REOPENED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor,
                                  data={"number": number, "amount_due": amount_due})


@_builds(INVOICE_MOVED)
def invoice_moved(*, customer_id: int, invoice_id: int, number: str, from_customer_id: int | None, to: str,
                  due_date: date, actor: str = SYSTEM) -> NewEvent:
    return INVOICE_MOVED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor, data={
        "number": number, "from_customer_id": from_customer_id, "to": to, "due_date": due_date})


@_builds(INVOICE_WRITTEN_OFF)
def invoice_written_off(*, customer_id: int, invoice_id: int, number: str, amount_due: Decimal, hold: int,
                        note: str, actor: str = SYSTEM) -> NewEvent:
    return INVOICE_WRITTEN_OFF.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor,
                                     data={"number": number, "amount_due": amount_due, "hold": hold, "note": note})


@_builds(PAYMENT_RECORDED)
def payment_recorded(*, customer_id: int | None, reference: str, date: date, amount: Decimal,
                     allocations: Sequence[Mapping[str, Any]], actor: str = SYSTEM, **more: Any) -> NewEvent:
    """``more``: a bank line's ``method`` and ``bank_line``."""
    return PAYMENT_RECORDED.event(customer_id=customer_id, actor=actor, data={
        "reference": reference, "date": date, "amount": amount, **more, "allocations": allocations})


#: what a FEC import writes of a payment or credit note, by (``payment`` or ``credit_note``, verb)
ACCOUNTING_ENTRIES: dict[tuple[str, str], Kind] = {
    ("payment", "recorded"): PAYMENT_RECORDED, ("payment", "allocated"): PAYMENT_ALLOCATED,
    ("payment", "updated"): PAYMENT_UPDATED, ("payment", "removed"): PAYMENT_REMOVED,
    ("credit_note", "recorded"): CREDIT_NOTE_RECORDED, ("credit_note", "allocated"): CREDIT_NOTE_ALLOCATED,
    ("credit_note", "updated"): CREDIT_NOTE_UPDATED, ("credit_note", "removed"): CREDIT_NOTE_REMOVED,
}


@_builds(PAYMENT_ALLOCATED, PAYMENT_UPDATED, PAYMENT_REMOVED, CREDIT_NOTE_ALLOCATED, CREDIT_NOTE_UPDATED,
         CREDIT_NOTE_REMOVED)
def accounting_entry(kind: Kind, *, customer_id: int | None, reference: str, amount: Decimal, source: str,
                     role: str, actor: str = SYSTEM, **more: Any) -> NewEvent:
    """A payment or credit note a FEC import recorded, allocated, updated or removed
    (:data:`ACCOUNTING_ENTRIES`); ``more``: date, number, allocations, previous, reason."""
    if kind not in ACCOUNTING_ENTRIES.values():
        raise ValueError(f"{kind} is not an accounting entry")
    return kind.event(customer_id=customer_id, actor=actor, data={
        "reference": reference, "amount": amount, "source": source, "role": role, **more})


@_builds(CREDIT_NOTE_RECORDED)
def credit_note_recorded(*, customer_id: int, invoice_id: int | None, number: str, date: date, amount: Decimal,
                         allocations: Sequence[Mapping[str, Any]], actor: str = SYSTEM) -> NewEvent:
    return CREDIT_NOTE_RECORDED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor, data={
        "number": number, "date": date, "amount": amount, "allocations": allocations})


@_builds(CUSTOMER_ALIAS_CREATED)
def customer_alias_created(*, customer_id: int, kind: str, value: str, actor: str = SYSTEM) -> NewEvent:
    return CUSTOMER_ALIAS_CREATED.event(customer_id=customer_id, actor=actor, data={"kind": kind, "value": value})


@_builds(CUSTOMER_ALIAS_CHANGED)
def customer_alias_changed(*, customer_id: int, kind: str, value: str, from_customer_id: int | None, to: str,
                           invoices: Sequence[str], actor: str = SYSTEM) -> NewEvent:
    return CUSTOMER_ALIAS_CHANGED.event(customer_id=customer_id, actor=actor, data={
        "kind": kind, "value": value, "from_customer_id": from_customer_id, "to": to, "invoices": invoices})


@_builds(CUSTOMER_UPDATED)
def customer_updated(*, customer_id: int, legal_name: str, source: str, actor: str = SYSTEM) -> NewEvent:
    return CUSTOMER_UPDATED.event(customer_id=customer_id, actor=actor,
                                  data={"legal_name": legal_name, "source": source})


# ------------------------------------------------------------------------------------------
# Members and organisation
# ------------------------------------------------------------------------------------------

MEMBER_ADDED = _kind("member.added", _("Membre ajouté"))
MEMBER_ROLE_CHANGED = _kind("member.role_changed", _("Rôle modifié"))
MEMBER_REMOVED = _kind("member.removed", _("Membre retiré"))
ORGANISATION_COLLECTOR_RESTRICTION = _kind("organisation.collector_restriction",
                                           _("Visibilité des chargés de recouvrement modifiée"))
ORGANISATION_WRITING_SETTINGS = _kind("organisation.writing_settings",
                                      _("Réglages de la vérification d’écriture modifiés"))
CUSTOMER_ASSIGNED = _kind("customer.assigned", _("Client attribué"))


@_builds(MEMBER_ADDED)
def member_added(*, user: str, role: str, new_account: bool, actor: str = SYSTEM) -> NewEvent:
    return MEMBER_ADDED.event(actor=actor, data={"user": user, "role": role, "new_account": new_account})


@_builds(MEMBER_ROLE_CHANGED)
def member_role_changed(*, user: str, from_: str, to: str, actor: str = SYSTEM) -> NewEvent:
    return MEMBER_ROLE_CHANGED.event(actor=actor, data={"user": user, "from": from_, "to": to})


@_builds(MEMBER_REMOVED)
def member_removed(*, user: str, actor: str = SYSTEM) -> NewEvent:
    return MEMBER_REMOVED.event(actor=actor, data={"user": user})


@_builds(ORGANISATION_COLLECTOR_RESTRICTION)
def organisation_collector_restriction(*, assigned_only: bool, actor: str = SYSTEM) -> NewEvent:
    return ORGANISATION_COLLECTOR_RESTRICTION.event(actor=actor, data={"assigned_only": assigned_only})


@_builds(ORGANISATION_WRITING_SETTINGS)
def organisation_writing_settings(*, accepted_words: Sequence[str], holds: bool, actor: str = SYSTEM) -> NewEvent:
    """The organisation's accepted words (``Organisation.accepted_words``) and whether an edited text
    with a spelling mistake waits « à valider » (``writing_check_holds``), as saved (issue 17)."""
    return ORGANISATION_WRITING_SETTINGS.event(actor=actor, data={"accepted_words": list(accepted_words),
                                                                  "holds": holds})


@_builds(CUSTOMER_ASSIGNED)
def customer_assigned(*, customer_id: int, collector: str | None, actor: str = SYSTEM) -> NewEvent:
    return CUSTOMER_ASSIGNED.event(customer_id=customer_id, actor=actor, data={"collector": collector})


# ------------------------------------------------------------------------------------------
# Reminders (dunning)
# ------------------------------------------------------------------------------------------

REMINDER_PLANNED = _kind("reminder.planned", _("Relance planifiée"))
REMINDER_SENT = _kind("reminder.sent", _("Relance envoyée"))
REMINDER_FAILED = _kind("reminder.failed", _("Échec d’envoi"))
REMINDER_RETRY = _kind("reminder.retry", _("Nouvelle tentative d’envoi"))
REMINDER_RETRIED = _kind("reminder.retried", _("Relance renvoyée"))
REMINDER_CANCELLED = _kind("reminder.cancelled", _("Relance annulée"))
REMINDER_UNCERTAIN = _kind("reminder.uncertain", _("Envoi à vérifier"))
REMINDER_CONFIRMED_SENT = _kind("reminder.confirmed_sent", _("Envoi vérifié : parti"))
REMINDER_RESEND_REQUESTED = _kind("reminder.resend_requested", _("Envoi vérifié : à renvoyer"))
REMINDER_RECOVERED = _kind("reminder.recovered", _("Envoi interrompu avant la transmission : reprogrammé"))
REMINDER_ATTACHMENT_MISSING = _kind("reminder.attachment_missing", _("Pièce jointe manquante"))
REMINDER_APPROVED = _kind("reminder.approved", _("Relance validée"))
REMINDER_EDITED = _kind("reminder.edited", _("Texte de la relance modifié"))
REMINDER_SKIPPED = _kind("reminder.skipped", _("Relance écartée à la validation"))
REMINDER_POSTPONED = _kind("reminder.postponed", _("Relance reportée"))
REMINDER_REVIEW_NEEDED = _kind("reminder.review_needed",
                               _("Relance à relire : montants changés depuis la modification"))
REMINDER_HELD_FOR_WRITING = _kind("reminder.held_for_writing",
                                  _("Relance retenue : fautes d’orthographe dans le texte modifié"))
THANKS_PLANNED = _kind("thanks.planned", _("Remerciement planifié"))
THANKS_SENT = _kind("thanks.sent", _("Remerciement envoyé"))
LAW_RATE_MISSING = _kind("law.rate_missing", _("Taux manquant"))
FORMAL_NOTICE_REISSUE_REQUESTED = _kind("formal_notice.reissue_requested", _("Nouvelle mise en demeure demandée"))
PRESCRIPTION_INTERRUPTED = _kind("prescription.interrupted", _("Prescription interrompue"))
LETTER_TRACKING_RECORDED = _kind("letter.tracking_recorded", _("Numéro de recommandé enregistré"))
LETTER_RECEIVED = _kind("letter.received", _("Avis de réception enregistré"))
LETTER_RECEIPT_ATTACHED = _kind("letter.receipt_attached", _("Avis de réception scanné joint"))
CALL_TASK_CREATED = _kind("call_task.created", _("Appel à passer"))
CALL_RECORDED = _kind("call.recorded", _("Appel enregistré"))
CONTACT_FLAGGED = _kind("contact.flagged", _("Contact signalé comme erroné"))
SCENARIO_CREATED = _kind("scenario.created", _("Scénario créé"))
SCENARIO_UPDATED = _kind("scenario.updated", _("Scénario modifié"))
SCENARIO_LATE_ENTRY_CHANGED = _kind("scenario.late_entry_changed",
                                    _("Étape d’entrée des factures en retard modifiée"))
SCENARIO_DEFAULT = _kind("scenario.default", _("Scénario par défaut changé"))
TEMPLATE_SAVED = _kind("template.saved", _("Modèle de message enregistré"))
TEMPLATE_RESET = _kind("template.reset", _("Modèle d’origine rétabli"))


@_builds(REMINDER_PLANNED)
def reminder_planned(*, customer_id: int, reminder_id: int, key: str, step: str, channel: str, kind: str,
                     invoices: Sequence[str], total_due: Decimal, awaiting_approval: bool = False,
                     actor: str = SYSTEM) -> NewEvent:
    """``awaiting_approval`` is stored only when true."""
    data: dict[str, Any] = {"key": key, "step": step, "channel": channel, "kind": kind, "invoices": invoices,
                            "total_due": total_due}
    if awaiting_approval:
        data["awaiting_approval"] = True
    return REMINDER_PLANNED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data=data)


#: what the send of each kind of reminder records (a reminder by default)
SENDS = (REMINDER_SENT, THANKS_SENT, _kind("litigation.handover", _("Dossier transmis au contentieux")),
              _kind("plan.agreement_sent", _("Accord d’échéancier envoyé")),
              _kind("invoice_copy.sent", _("Copie de facture envoyée")),
              _kind("case_handover.sent", _("Dossier de contentieux envoyé à son destinataire")))
LITIGATION_HANDOVER, PLAN_AGREEMENT_SENT, INVOICE_COPY_SENT, CASE_HANDOVER_SENT = SENDS[2], SENDS[3], SENDS[4], SENDS[5]


@_builds(*SENDS)
def reminder_sent(kind: Kind = REMINDER_SENT, *, customer_id: int, reminder_id: int, data: Mapping[str, Any],
                  actor: str = SYSTEM) -> NewEvent:
    """A message that left (``kind``: one of :data:`SENDS`); ``data``: key, channel, recipient,
    subject, message_id, body and document hashes, and what the kind of reminder adds."""
    if kind not in SENDS:
        raise ValueError(f"{kind} is not a kind of send")
    return kind.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data=data)


@_builds(REMINDER_FAILED, REMINDER_RETRY)
def reminder_failed(kind: Kind, *, customer_id: int, reminder_id: int, error: str, attempt: int,
                    next_attempt_at: datetime | None) -> NewEvent:
    """A definite failure: for good (``REMINDER_FAILED``) or tried again later (``REMINDER_RETRY``)."""
    if kind not in (REMINDER_FAILED, REMINDER_RETRY):
        raise ValueError(f"{kind} is not a failure")
    return kind.event(customer_id=customer_id, reminder_id=reminder_id,
                      data={"error": error, "attempt": attempt, "next_attempt_at": next_attempt_at})


@_builds(REMINDER_RETRIED)
def reminder_retried(*, customer_id: int, reminder_id: int, previous_error: str, attempts: int,
                     planned_for: date | datetime | None, actor: str = SYSTEM) -> NewEvent:
    return REMINDER_RETRIED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data={
        "previous_error": previous_error, "attempts": attempts, "planned_for": planned_for})


@_builds(REMINDER_CANCELLED)
def reminder_cancelled(*, customer_id: int, reminder_id: int, reason: str, actor: str = SYSTEM,
                       **more: Any) -> NewEvent:
    """``reason``: a code (``settled``, ``litigation_case_opened``…); ``more``: e.g. ``invoices``."""
    return REMINDER_CANCELLED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor,
                                    data={"reason": reason, **more})


@_builds(REMINDER_UNCERTAIN)
def reminder_uncertain(*, customer_id: int, reminder_id: int, reason: str, attempt: int,
                       handed_over_at: datetime | None, recipient: str, message_id: str,
                       **more: Any) -> NewEvent:
    """``more``: the ``error`` of a dropped exchange, or the ``claimed_at`` of a lost worker."""
    return REMINDER_UNCERTAIN.event(customer_id=customer_id, reminder_id=reminder_id, data={
        "reason": reason, "attempt": attempt, "handed_over_at": handed_over_at, "recipient": recipient,
        "message_id": message_id, **more})


@_builds(REMINDER_CONFIRMED_SENT)
def reminder_confirmed_sent(*, customer_id: int, reminder_id: int, sent_at: datetime | None, message_id: str,
                            previous_error: str, actor: str = SYSTEM) -> NewEvent:
    return REMINDER_CONFIRMED_SENT.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data={
        "sent_at": sent_at, "message_id": message_id, "previous_error": previous_error})


@_builds(REMINDER_RESEND_REQUESTED)
def reminder_resend_requested(*, customer_id: int, reminder_id: int, previous_error: str, message_id: str,
                              attempts: int, planned_for: date | datetime | None, actor: str = SYSTEM) -> NewEvent:
    return REMINDER_RESEND_REQUESTED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data={
        "previous_error": previous_error, "message_id": message_id, "attempts": attempts,
        "planned_for": planned_for})


@_builds(REMINDER_RECOVERED)
def reminder_recovered(*, customer_id: int, reminder_id: int, attempt: int, claimed_at: datetime | None) -> NewEvent:
    return REMINDER_RECOVERED.event(customer_id=customer_id, reminder_id=reminder_id,
                                    data={"attempt": attempt, "claimed_at": claimed_at})


@_builds(REMINDER_ATTACHMENT_MISSING)
def reminder_attachment_missing(*, customer_id: int, reminder_id: int, invoices: Sequence[str]) -> NewEvent:
    return REMINDER_ATTACHMENT_MISSING.event(customer_id=customer_id, reminder_id=reminder_id,
                                             data={"invoices": invoices})


@_builds(REMINDER_APPROVED)
def reminder_approved(*, customer_id: int, reminder_id: int, planned_for: date | datetime | None, channel: str,
                      edited: bool, bulk: bool = False, actor: str = SYSTEM) -> NewEvent:
    """``bulk`` is stored only when true (several approved at once)."""
    return REMINDER_APPROVED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data={
        "planned_for": planned_for, "channel": channel, "edited": edited, **({"bulk": True} if bulk else {})})


@_builds(REMINDER_EDITED)
def reminder_edited(*, customer_id: int, reminder_id: int, previous_body_sha256: str | None, actor: str = SYSTEM,
                    reverted: bool = False, **edit: Any) -> NewEvent:
    """A text changed (``edit``: subject, body_sha256, invoices, dropped), or ``reverted`` to the composed one;
    ``previous_body_sha256`` is ``None`` at the first edit (the composed text is not hashed)."""
    data = {"reverted": True, "previous_body_sha256": previous_body_sha256} if reverted else {
        **edit, "previous_body_sha256": previous_body_sha256}
    return REMINDER_EDITED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data=data)


@_builds(REMINDER_SKIPPED)
def reminder_skipped(*, customer_id: int, reminder_id: int, reason: str, actor: str = SYSTEM) -> NewEvent:
    return REMINDER_SKIPPED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor,
                                  data={"reason": reason})


@_builds(REMINDER_POSTPONED)
def reminder_postponed(*, customer_id: int, reminder_id: int, from_: Any, to: Any, actor: str = SYSTEM) -> NewEvent:
    return REMINDER_POSTPONED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor,
                                    data={"from": from_, "to": to})


@_builds(REMINDER_REVIEW_NEEDED)
def reminder_review_needed(*, customer_id: int, reminder_id: int, reason: str, dropped: Any) -> NewEvent:
    return REMINDER_REVIEW_NEEDED.event(customer_id=customer_id, reminder_id=reminder_id,
                                        data={"reason": reason, "dropped": dropped})


@_builds(REMINDER_HELD_FOR_WRITING)
def reminder_held_for_writing(*, customer_id: int, reminder_id: int, problems: Sequence[Mapping[str, Any]],
                              text_sha256: str, attempt: int) -> NewEvent:
    """An edited text with a spelling mistake went back « à valider » instead of leaving
    (``Organisation.writing_check_holds``): the problems found (``relance.writing``) and the
    digest of the text held (``dunning.services.proofreading.digest``)."""
    return REMINDER_HELD_FOR_WRITING.event(customer_id=customer_id, reminder_id=reminder_id, data={
        "problems": [dict(p) for p in problems], "text_sha256": text_sha256, "attempt": attempt})


@_builds(THANKS_PLANNED)
def thanks_planned(*, customer_id: int, reminder_id: int, invoices: Sequence[str]) -> NewEvent:
    return THANKS_PLANNED.event(customer_id=customer_id, reminder_id=reminder_id, data={"invoices": invoices})


@_builds(LAW_RATE_MISSING)
def law_rate_missing(*, customer_id: int, reminder_id: int, message: str) -> NewEvent:
    return LAW_RATE_MISSING.event(customer_id=customer_id, reminder_id=reminder_id, data={"message": message})


@_builds(FORMAL_NOTICE_REISSUE_REQUESTED)
def formal_notice_reissue_requested(*, customer_id: int, invoice_id: int, reminder_id: int, number: str,
                                    reason: str, previous: date | None, actor: str = SYSTEM) -> NewEvent:
    return FORMAL_NOTICE_REISSUE_REQUESTED.event(
        customer_id=customer_id, invoice_id=invoice_id, reminder_id=reminder_id, actor=actor,
        data={"number": number, "reason": reason, "previous": previous})


@_builds(PRESCRIPTION_INTERRUPTED)
def prescription_interrupted(*, customer_id: int, invoice_id: int, kind: str, on: date, note: str,
                             actor: str = SYSTEM) -> NewEvent:
    """An act interrupting prescription (C. civ. art. 2240, 2241): ``kind`` says which."""
    return PRESCRIPTION_INTERRUPTED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor,
                                          data={"kind": kind, "on": on, "note": note})


@_builds(LETTER_TRACKING_RECORDED)
def letter_tracking_recorded(*, customer_id: int, reminder_id: int, tracking_number: str,
                             actor: str = SYSTEM) -> NewEvent:
    return LETTER_TRACKING_RECORDED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor,
                                          data={"tracking_number": tracking_number})


@_builds(LETTER_RECEIVED)
def letter_received(*, customer_id: int, reminder_id: int, received_on: date, actor: str = SYSTEM) -> NewEvent:
    return LETTER_RECEIVED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor,
                                 data={"received_on": received_on})


@_builds(LETTER_RECEIPT_ATTACHED)
def letter_receipt_attached(*, customer_id: int, reminder_id: int, sha256: str, file: str,
                            actor: str = SYSTEM) -> NewEvent:
    return LETTER_RECEIPT_ATTACHED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor,
                                         data={"sha256": sha256, "file": file})


@_builds(CALL_TASK_CREATED)
def call_task_created(*, customer_id: int, due_on: date, reminder_id: int | None = None, actor: str = SYSTEM,
                      **more: Any) -> NewEvent:
    """A call to make: after a reminder (``reminder_id``), or by hand (``more``: task, purpose, contact…)."""
    return CALL_TASK_CREATED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor,
                                   data={"due_on": due_on, **more})


@_builds(CALL_RECORDED)
def call_recorded(*, customer_id: int, task: int, outcome: str, note: str, attempt: int, contact: int | None,
                  also_closed: Any, actor: str = SYSTEM, **more: Any) -> NewEvent:
    return CALL_RECORDED.event(customer_id=customer_id, actor=actor, data={
        "task": task, "outcome": outcome, "note": note, "attempt": attempt, "contact": contact,
        "also_closed": also_closed, **more})


@_builds(CONTACT_FLAGGED)
def contact_flagged(*, customer_id: int, contact: int | None, name: str, phone: str, note: str,
                    actor: str = SYSTEM) -> NewEvent:
    return CONTACT_FLAGGED.event(customer_id=customer_id, actor=actor,
                                 data={"contact": contact, "name": name, "phone": phone, "note": note})


@_builds(SCENARIO_CREATED)
def scenario_created(*, scenario: str, copy_of: str | None, actor: str = SYSTEM) -> NewEvent:
    return SCENARIO_CREATED.event(actor=actor, data={"scenario": scenario, "copy_of": copy_of})


@_builds(SCENARIO_UPDATED, SCENARIO_LATE_ENTRY_CHANGED)
def scenario_updated(kind: Kind = SCENARIO_UPDATED, *, scenario: str, before: Any, after: Any,
                     actor: str = SYSTEM) -> NewEvent:
    if kind not in (SCENARIO_UPDATED, SCENARIO_LATE_ENTRY_CHANGED):
        raise ValueError(f"{kind} is not a change of scenario")
    return kind.event(actor=actor, data={"scenario": scenario, "before": before, "after": after})


@_builds(SCENARIO_DEFAULT)
def scenario_default(*, scenario: str, actor: str = SYSTEM) -> NewEvent:
    return SCENARIO_DEFAULT.event(actor=actor, data={"scenario": scenario})


@_builds(TEMPLATE_SAVED)
def template_saved(*, key: str, language: str, created: bool, actor: str = SYSTEM,
                   writing_problems: Sequence[Mapping[str, Any]] | None = None) -> NewEvent:
    """``writing_problems``: the spelling mistakes a person confirmed saving (issue 17), when any."""
    data: dict[str, Any] = {"key": key, "language": language, "created": created}
    if writing_problems:
        data["writing_problems"] = [dict(p) for p in writing_problems]
    return TEMPLATE_SAVED.event(actor=actor, data=data)


@_builds(TEMPLATE_RESET)
def template_reset(*, key: str, language: str, actor: str = SYSTEM) -> NewEvent:
    return TEMPLATE_RESET.event(actor=actor, data={"key": key, "language": language})


# ------------------------------------------------------------------------------------------
# Holds: promises, disputes, pauses, stops, payment plans (core.holds names the transitions)
# ------------------------------------------------------------------------------------------

HOLD_CREATED = _kind("hold.created", _("Suspension des relances"))
HOLD_ENDED = _kind("hold.ended", _("Fin de suspension"))
PROMISE_RECORDED = _kind("promise.recorded", _("Promesse de règlement"))
PROMISE_KEPT = _kind("promise.kept", _("Promesse tenue"))
PROMISE_BROKEN = _kind("promise.broken", _("Promesse non tenue"))
PROMISE_CANCELLED = _kind("promise.cancelled", _("Promesse annulée"))
DISPUTE_OPENED = _kind("dispute.opened", _("Litige ouvert"))
DISPUTE_RESOLVED = _kind("dispute.resolved", _("Litige résolu"))
DISPUTE_CREDITED = _kind("dispute.credited", _("Litige clos par un avoir"))
DISPUTE_WRITTEN_OFF = _kind("dispute.written_off", _("Litige clos : créance abandonnée"))
PAUSE_STARTED = _kind("pause.started", _("Pause des relances"))
PAUSE_LIFTED = _kind("pause.lifted", _("Pause levée"))
PAUSE_EXPIRED = _kind("pause.expired", _("Fin de la pause"))
STOP_STARTED = _kind("stop.started", _("Arrêt des relances"))
STOP_LIFTED = _kind("stop.lifted", _("Reprise des relances"))
PLAN_PROPOSED = _kind("plan.proposed", _("Échéancier proposé"))
PLAN_ACCEPTED = _kind("plan.accepted", _("Échéancier accepté"))
PLAN_AGREEMENT_ISSUED = _kind("plan.agreement_issued", _("Accord d’échéancier édité"))
PLAN_AGREEMENT_PLANNED = _kind("plan.agreement_planned", _("Envoi de l’accord d’échéancier demandé"))
PLAN_COMPLETED = _kind("plan.completed", _("Échéancier soldé"))
PLAN_BROKEN = _kind("plan.broken", _("Échéancier rompu"))
PLAN_CANCELLED = _kind("plan.cancelled", _("Échéancier annulé"))
INSTALMENT_PAID = _kind("instalment.paid", _("Échéance réglée"))
INSTALMENT_MISSED = _kind("instalment.missed", _("Échéance impayée"))
INSTALMENT_NOTICE_REPLANNED = _kind("instalment.notice_replanned", _("Avis d’échéance impayée de nouveau planifié"))

#: the kinds a hold's state machine leaves when it moves (``core.holds.TRANSITIONS``)
HOLD_TRANSITIONS = (PROMISE_KEPT, PROMISE_BROKEN, PROMISE_CANCELLED, DISPUTE_RESOLVED, DISPUTE_CREDITED,
                    DISPUTE_WRITTEN_OFF, PAUSE_LIFTED, PAUSE_EXPIRED, STOP_LIFTED, PLAN_ACCEPTED, PLAN_CANCELLED,
                    PLAN_COMPLETED, PLAN_BROKEN, HOLD_ENDED)


@_builds(*HOLD_TRANSITIONS, HOLD_CREATED)
def hold_moved(kind: str, *, customer_id: int, invoice_id: int | None = None, actor: str = SYSTEM,
               **data: Any) -> NewEvent:
    """A hold created or moved by its state machine (``kind`` from ``core.holds``); ``data``:
    the hold, promise or plan id and what the move adds."""
    found = known(kind)
    if found not in (*HOLD_TRANSITIONS, HOLD_CREATED):
        raise ValueError(f"{kind} is not a move of a hold")
    return found.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor, data=data)


@_builds(PROMISE_RECORDED)
def promise_recorded(*, customer_id: int, promise: int, invoices: Sequence[str], promised_on: date,
                     amount: Decimal | None, via: str, obtained_by: str, covered_due: Decimal,
                     grace_until: date | None, note: str, actor: str = SYSTEM) -> NewEvent:
    return PROMISE_RECORDED.event(customer_id=customer_id, actor=actor, data={
        "promise": promise, "invoices": invoices, "promised_on": promised_on, "amount": amount, "via": via,
        "obtained_by": obtained_by, "covered_due": covered_due, "grace_until": grace_until, "note": note})


@_builds(DISPUTE_OPENED)
def dispute_opened(*, customer_id: int, invoice_id: int, hold: int, number: str, reason: str, label: str,
                   note: str, attachment: str, amount_due: Decimal, actor: str = SYSTEM) -> NewEvent:
    return DISPUTE_OPENED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor, data={
        "hold": hold, "number": number, "reason": reason, "label": label, "note": note, "attachment": attachment,
        "amount_due": amount_due})


@_builds(PAUSE_STARTED)
def pause_started(*, customer_id: int, hold: int, until: date | None, reason: str, number: str,
                  invoice_id: int | None = None, actor: str = SYSTEM, **more: Any) -> NewEvent:
    """``more``: what a collective account's pause adds (its source)."""
    return PAUSE_STARTED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor, data={
        "hold": hold, "until": until, "reason": reason, "number": number, **more})


@_builds(STOP_STARTED)
def stop_started(*, customer_id: int, hold: int, cause: str, reason: str, actor: str = SYSTEM) -> NewEvent:
    return STOP_STARTED.event(customer_id=customer_id, actor=actor,
                              data={"hold": hold, "cause": cause, "reason": reason})


@_builds(PLAN_PROPOSED)
def plan_proposed(*, customer_id: int, plan: int, invoices: Sequence[str], total: Decimal,
                  instalments: Sequence[Mapping[str, Any]], waive_penalties: bool, grace_days: int, note: str,
                  actor: str = SYSTEM) -> NewEvent:
    return PLAN_PROPOSED.event(customer_id=customer_id, actor=actor, data={
        "plan": plan, "invoices": invoices, "total": total, "instalments": instalments,
        "waive_penalties": waive_penalties, "grace_days": grace_days, "note": note})


@_builds(PLAN_AGREEMENT_ISSUED)
def plan_agreement_issued(*, customer_id: int, plan: int, document: str, sha256: str,
                          actor: str = SYSTEM) -> NewEvent:
    return PLAN_AGREEMENT_ISSUED.event(customer_id=customer_id, actor=actor,
                                       data={"plan": plan, "document": document, "sha256": sha256})


@_builds(PLAN_AGREEMENT_PLANNED)
def plan_agreement_planned(*, customer_id: int, reminder_id: int, plan: int, invoices: Sequence[str],
                           total: Decimal, actor: str = SYSTEM) -> NewEvent:
    return PLAN_AGREEMENT_PLANNED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor,
                                        data={"plan": plan, "invoices": invoices, "total": total})


@_builds(INSTALMENT_PAID)
def instalment_paid(*, customer_id: int, plan: int, position: int, due_on: date, amount: Decimal, paid: Decimal,
                    credited: Decimal, paid_on: date | None) -> NewEvent:
    return INSTALMENT_PAID.event(customer_id=customer_id, data={
        "plan": plan, "position": position, "due_on": due_on, "amount": amount, "paid": paid, "credited": credited,
        "paid_on": paid_on})


@_builds(INSTALMENT_MISSED)
def instalment_missed(*, customer_id: int, plan: int, position: int, due_on: date, remaining: Decimal) -> NewEvent:
    return INSTALMENT_MISSED.event(customer_id=customer_id, data={
        "plan": plan, "position": position, "due_on": due_on, "remaining": remaining})


@_builds(INSTALMENT_NOTICE_REPLANNED)
def instalment_notice_replanned(*, customer_id: int, reminder_id: int, plan: int, position: int, due_on: date,
                                remaining: Decimal, cancelled_notice: int, notice: int | None) -> NewEvent:
    return INSTALMENT_NOTICE_REPLANNED.event(customer_id=customer_id, reminder_id=reminder_id, data={
        "plan": plan, "position": position, "due_on": due_on, "remaining": remaining,
        "cancelled_notice": cancelled_notice, "notice": notice})


# ------------------------------------------------------------------------------------------
# Litigation (core.litigation names the transitions)
# ------------------------------------------------------------------------------------------

LITIGATION_OPENED = _kind("litigation.opened", _("Passage au contentieux"))
LITIGATION_INVOICES_ADDED = _kind("litigation.invoices_added", _("Factures ajoutées au dossier de contentieux"))
LITIGATION_FILED = _kind("litigation.filed", _("Dossier de contentieux transmis"))
LITIGATION_CLOSED = _kind("litigation.closed", _("Dossier de contentieux clôturé"))
LITIGATION_REQUEST_FILED = _kind("litigation.request_filed", _("Requête en injonction de payer déposée"))
LITIGATION_ORDER_ISSUED = _kind("litigation.order_issued", _("Ordonnance d’injonction de payer rendue"))
LITIGATION_SERVED = _kind("litigation.served", _("Ordonnance d’injonction de payer signifiée"))
LITIGATION_MOVES = (LITIGATION_OPENED, LITIGATION_INVOICES_ADDED, LITIGATION_FILED, LITIGATION_CLOSED,
                    LITIGATION_REQUEST_FILED, LITIGATION_ORDER_ISSUED, LITIGATION_SERVED)


@_builds(*LITIGATION_MOVES)
def litigation_moved(kind: str, *, customer_id: int, actor: str = SYSTEM, **data: Any) -> NewEvent:
    """A case opened, joined by invoices, moved along the procedure or closed (``kind`` from
    ``core.litigation``)."""
    found = known(kind)
    if found not in LITIGATION_MOVES:
        raise ValueError(f"{kind} is not a move of a litigation case")
    return found.event(customer_id=customer_id, actor=actor, data=data)


LITIGATION_DOCUMENT_ADDED = _kind("litigation.document_added", _("Document ajouté au dossier de contentieux"))
LITIGATION_HANDED_OVER = _kind("litigation.handed_over", _("Dossier de contentieux remis à son destinataire"))
LITIGATION_DOWNLOADED = _kind("litigation.link_downloaded", _("Dossier de contentieux téléchargé par son destinataire"))


@_builds(LITIGATION_DOCUMENT_ADDED)
def litigation_document(*, customer_id: int, case: int, document: int, kind: str, title: str, sha256: str,
                        size: int, as_of: date | None = None, actor: str = SYSTEM) -> NewEvent:
    """A document produced for a case (evidence file, request…) or received at a step (the order,
    the act of service), with its SHA-256: the log proves which bytes existed when."""
    return LITIGATION_DOCUMENT_ADDED.event(customer_id=customer_id, actor=actor, data={
        "case": case, "document": document, "kind": kind, "title": title, "sha256": sha256, "size": size,
        "as_of": as_of})


@_builds(LITIGATION_HANDED_OVER, LITIGATION_DOWNLOADED)
def litigation_handover(kind: Kind, *, customer_id: int, case: int, handover: int, method: str, recipient: str,
                        documents: Sequence[Mapping[str, Any]], reminder_id: int | None = None,
                        actor: str = SYSTEM, **more: Any) -> NewEvent:
    """The case's file handed to its recipient (``method``: attachment, link, download), or a
    download link used; ``documents``: id, title and SHA-256 of each file."""
    return kind.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data={
        "case": case, "handover": handover, "method": method, "recipient": recipient,
        "documents": list(documents), **more})


# ------------------------------------------------------------------------------------------
# Payer profiles
# ------------------------------------------------------------------------------------------

PROFILES_INSTALLED = _kind("profiles.installed", _("Profils de payeur installés"))
PROFILE_CHANGED = _kind("profile.changed", _("Profil de payeur modifié"))
PROFILE_SCENARIO_CHANGED = _kind("profile.scenario_changed", _("Scénario changé selon le profil"))
PROFILE_OVERRIDDEN = _kind("profile.overridden", _("Profil de payeur imposé"))
PROFILE_OVERRIDE_CLEARED = _kind("profile.override_cleared", _("Profil imposé retiré"))


@_builds(PROFILES_INSTALLED)
def profiles_installed(*, profiles: Sequence[Mapping[str, Any]], scenarios_created: Sequence[str],
                       actor: str = SYSTEM) -> NewEvent:
    return PROFILES_INSTALLED.event(actor=actor, data={"profiles": profiles, "scenarios_created": scenarios_created})


@_builds(PROFILE_CHANGED)
def profile_changed(*, customer_id: int, from_: str | None, to: str | None, figures: Mapping[str, Any],
                    override: str | None, scenario: Any, actor: str = SYSTEM) -> NewEvent:
    return PROFILE_CHANGED.event(customer_id=customer_id, actor=actor, data={
        "from": from_, "to": to, "figures": figures, "override": override, "scenario": scenario})


@_builds(PROFILE_SCENARIO_CHANGED)
def profile_scenario_changed(*, customer_id: int, profile: str | None, override: bool, scenario: Any,
                             actor: str = SYSTEM) -> NewEvent:
    return PROFILE_SCENARIO_CHANGED.event(customer_id=customer_id, actor=actor,
                                          data={"profile": profile, "override": override, "scenario": scenario})


@_builds(PROFILE_OVERRIDDEN)
def profile_overridden(*, customer_id: int, profile: str, previous_override: str | None, reason: str,
                       scenario: Mapping[str, Any], invoices_rescheduled: int, actor: str = SYSTEM) -> NewEvent:
    return PROFILE_OVERRIDDEN.event(customer_id=customer_id, actor=actor, data={
        "profile": profile, "previous_override": previous_override, "reason": reason, "scenario": scenario,
        "invoices_rescheduled": invoices_rescheduled})


@_builds(PROFILE_OVERRIDE_CLEARED)
def profile_override_cleared(*, customer_id: int, profile: str, reason: str, actor: str = SYSTEM) -> NewEvent:
    return PROFILE_OVERRIDE_CLEARED.event(customer_id=customer_id, actor=actor,
                                          data={"profile": profile, "reason": reason})


# ------------------------------------------------------------------------------------------
# Bank statements (banking)
# ------------------------------------------------------------------------------------------

BANK_STATEMENT_IMPORTED = _kind("bank_statement.imported", _("Relevé bancaire importé"))
BANK_LINE_MATCHED = _kind("bank_line.matched", _("Virement rapproché"))
BANK_LINE_TO_REVIEW = _kind("bank_line.to_review", _("Virement à vérifier"))
BANK_LINE_UNMATCHED = _kind("bank_line.unmatched", _("Virement non rapproché"))
BANK_LINE_DISMISSED = _kind("bank_line.dismissed", _("Virement écarté du rapprochement"))


@_builds(BANK_STATEMENT_IMPORTED)
def bank_statement_imported(*, report: Mapping[str, Any], actor: str = SYSTEM) -> NewEvent:
    return BANK_STATEMENT_IMPORTED.event(actor=actor, data=report)


@_builds(BANK_LINE_MATCHED)
def bank_line_matched(*, customer_id: int | None, invoice_id: int | None, line: Mapping[str, Any], payment: str,
                      method: str, reason: str, allocations: Sequence[Mapping[str, Any]], unallocated: Decimal,
                      actor: str = SYSTEM) -> NewEvent:
    """``line``: the bank line's own facts (``banking.services.matching.line_data``)."""
    return BANK_LINE_MATCHED.event(customer_id=customer_id, invoice_id=invoice_id, actor=actor, data={
        **line, "payment": payment, "method": method, "reason": reason, "allocations": allocations,
        "unallocated": unallocated})


@_builds(BANK_LINE_TO_REVIEW, BANK_LINE_UNMATCHED)
def bank_line_unmatched(kind: Kind, *, line: Mapping[str, Any], reason: str,
                        candidates: Sequence[Mapping[str, Any]], actor: str = SYSTEM) -> NewEvent:
    """A line left for a person (``BANK_LINE_TO_REVIEW``: candidates found) or unmatched."""
    if kind not in (BANK_LINE_TO_REVIEW, BANK_LINE_UNMATCHED):
        raise ValueError(f"{kind} is not a line left unmatched")
    return kind.event(actor=actor, data={**line, "reason": reason, "candidates": candidates})


@_builds(BANK_LINE_DISMISSED)
def bank_line_dismissed(*, line: Mapping[str, Any], reason: str, actor: str = SYSTEM) -> NewEvent:
    return BANK_LINE_DISMISSED.event(actor=actor, data={**line, "reason": reason})


# ------------------------------------------------------------------------------------------
# Bounces (dunning)
# ------------------------------------------------------------------------------------------

REMINDER_UNDELIVERED = _kind("reminder.undelivered", _("Relance non distribuée"))
REMINDER_DELIVERY_DELAYED = _kind("reminder.delivery_delayed", _("Distribution retardée"))
CONTACT_EMAIL_BOUNCED = _kind("contact.email_bounced", _("Adresse e-mail en échec"))
CONTACT_EMAIL_RESTORED = _kind("contact.email_restored", _("Adresse e-mail rétablie"))


@_builds(REMINDER_UNDELIVERED)
def reminder_undelivered(*, customer_id: int, reminder_id: int, message_id: str, recipients: Sequence[str],
                         status: str, reason: str, diagnostic: str, received_at: datetime, previous_status: str,
                         actor: str = SYSTEM, not_received: Sequence[str] = ()) -> NewEvent:
    """A permanent bounce of a reminder that left: ``status`` the RFC 3463 code, ``reason`` the
    French reason; ``previous_status`` the reminder's state before (``sent``, ``uncertain``…);
    ``not_received`` the invoices whose count of reminders received lost this one."""
    return REMINDER_UNDELIVERED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data={
        "message_id": message_id, "recipients": list(recipients), "status": status, "reason": reason,
        "diagnostic": diagnostic, "received_at": received_at, "previous_status": previous_status,
        "not_received": list(not_received)})


@_builds(REMINDER_DELIVERY_DELAYED)
def reminder_delivery_delayed(*, customer_id: int, reminder_id: int, message_id: str, recipients: Sequence[str],
                              status: str, reason: str, diagnostic: str, final: bool, permanent: bool,
                              received_at: datetime, actor: str = SYSTEM) -> NewEvent:
    """A delay notice, or a failure that is not permanent: nothing changes but this event."""
    return REMINDER_DELIVERY_DELAYED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data={
        "message_id": message_id, "recipients": list(recipients), "status": status, "reason": reason,
        "diagnostic": diagnostic, "final": final, "permanent": permanent, "received_at": received_at})


@_builds(CONTACT_EMAIL_BOUNCED)
def contact_email_bounced(*, customer_id: int, contact: int, email: str, reason: str, reminder_id: int | None,
                          actor: str = SYSTEM) -> NewEvent:
    """A contact's address returned for good: no email goes to it until it is changed."""
    return CONTACT_EMAIL_BOUNCED.event(customer_id=customer_id, reminder_id=reminder_id, actor=actor, data={
        "contact": contact, "email": email, "reason": reason})


@_builds(CONTACT_EMAIL_RESTORED)
def contact_email_restored(*, customer_id: int, contact: int, previous_email: str, email: str,
                           bounced_at: datetime | None, reason: str, actor: str = SYSTEM) -> NewEvent:
    """A flagged contact's address changed: the flag is cleared (``reason``: the one it had)."""
    return CONTACT_EMAIL_RESTORED.event(customer_id=customer_id, actor=actor, data={
        "contact": contact, "previous_email": previous_email, "email": email, "bounced_at": bounced_at,
        "reason": reason})


# ------------------------------------------------------------------------------------------
# Operations: the daily run and the digest
# ------------------------------------------------------------------------------------------

SCHEDULE_DAY_RAN = _kind("schedule.day_ran", _("Journée de relances effectuée"))
SCHEDULE_DAY_HELD = _kind("schedule.day_held", _("Journée de relances retenue : canal en attente"))
SCHEDULE_DAY_FAILED = _kind("schedule.day_failed", _("Échec de la journée de relances"))
DIGEST_SENDING = _kind("digest.sending", _("Bilan quotidien en cours d’envoi"))
DIGEST_SENT = _kind("digest.sent", _("Bilan quotidien envoyé"))
DIGEST_FAILED = _kind("digest.failed", _("Échec d’envoi du bilan quotidien"))
DIGEST_UNCERTAIN = _kind("digest.uncertain", _("Envoi du bilan quotidien à vérifier"))
#: the outcomes of one day's digest, in the order they may follow each other
DIGEST_KINDS = (DIGEST_SENDING, DIGEST_SENT, DIGEST_FAILED, DIGEST_UNCERTAIN)


@_builds(SCHEDULE_DAY_RAN)
def schedule_day_ran(*, day: date, attempt: int, worker: str, missed_days: Any, missed_count: int,
                     summary: Mapping[str, Any]) -> NewEvent:
    return SCHEDULE_DAY_RAN.event(data={"day": day, "attempt": attempt, "worker": worker, "missed_days": missed_days,
                                        "missed_count": missed_count, **summary})


@_builds(SCHEDULE_DAY_HELD)
def schedule_day_held(*, day: date, attempt: int, worker: str, held: Any, retry_at: datetime,
                      summary: Mapping[str, Any]) -> NewEvent:
    return SCHEDULE_DAY_HELD.event(data={"day": day, "attempt": attempt, "worker": worker, "held": held,
                                         "retry_at": retry_at, **summary})


@_builds(SCHEDULE_DAY_FAILED)
def schedule_day_failed(*, day: date, attempt: int, error: str, retry_at: datetime) -> NewEvent:
    return SCHEDULE_DAY_FAILED.event(data={"day": day, "attempt": attempt, "error": error, "retry_at": retry_at})


@_builds(*DIGEST_KINDS)
def digest(kind: Kind, *, data: Mapping[str, Any], **more: Any) -> NewEvent:
    """One step of a day's digest (``data``: day, recipients, head, message_id…; ``more``: the
    ``error`` of a failed or uncertain send)."""
    if kind not in DIGEST_KINDS:
        raise ValueError(f"{kind} is not a step of the digest")
    return kind.event(data={**data, **more})


# ------------------------------------------------------------------------------------------
# Customers' replies (replies)
# ------------------------------------------------------------------------------------------

REPLY_RECEIVED = _kind("reply.received", _("Réponse du client reçue"))
REPLY_ATTACHED = _kind("reply.attached", _("Réponse rattachée à un client"))
REPLY_RECLASSIFIED = _kind("reply.reclassified", _("Catégorie de la réponse corrigée"))
REPLY_APPLIED = _kind("reply.applied", _("Suite donnée à la réponse"))
REPLY_DISMISSED = _kind("reply.dismissed", _("Réponse classée sans suite"))
REPLY_REVERTED = _kind("reply.reverted", _("Suite de la réponse annulée"))
REPLY_REOPENED = _kind("reply.reopened", _("Réponse rouverte"))
REPLY_PAYMENT_NOT_SEEN = _kind("reply.payment_not_seen", _("Paiement annoncé non rapproché"))
MAILBOX_FETCHED = _kind("mailbox.fetched", _("Boîte de réception relevée"))
MAILBOX_FAILED = _kind("mailbox.failed", _("Échec de la relève de la boîte de réception"))

#: the transitions of a reply (``core.replies.inbox.TRANSITIONS``)
REPLY_MOVES = (REPLY_ATTACHED, REPLY_APPLIED, REPLY_DISMISSED, REPLY_REVERTED, REPLY_REOPENED)


@_builds(REPLY_RECEIVED)
def reply_received(*, reply: int, customer_id: int | None, reminder_id: int | None, message_key: str, sha256: str,
                   sender: str, subject: str, category: str, confidence: str, evidence: Sequence[str],
                   state: str, attached_by: str, kind: str, problems: Sequence[str]) -> NewEvent:
    return REPLY_RECEIVED.event(customer_id=customer_id, reminder_id=reminder_id, data={
        "reply": reply, "message_key": message_key, "sha256": sha256, "sender": sender, "subject": subject,
        "category": category, "confidence": confidence, "evidence": list(evidence), "state": state,
        "attached_by": attached_by, "kind": kind, "problems": list(problems)})


@_builds(*REPLY_MOVES)
def reply_moved(kind: Kind, *, reply: int, customer_id: int | None, source: str, target: str, actor: str,
                **more: Any) -> NewEvent:
    """A reply's transition (``more``: the category, the effect applied or reverted, the note…)."""
    if kind not in REPLY_MOVES:
        raise ValueError(f"{kind} is not a transition of a reply")
    return kind.event(customer_id=customer_id, actor=actor,
                      data={"reply": reply, "from": source, "to": target, **more})


@_builds(REPLY_RECLASSIFIED)
def reply_reclassified(*, reply: int, customer_id: int | None, predicted: str, before: str, after: str,
                       actor: str) -> NewEvent:
    return REPLY_RECLASSIFIED.event(customer_id=customer_id, actor=actor, data={
        "reply": reply, "predicted": predicted, "from": before, "to": after})


@_builds(REPLY_PAYMENT_NOT_SEEN)
def reply_payment_not_seen(*, reply: int, customer_id: int, task: int, waited_until: date) -> NewEvent:
    return REPLY_PAYMENT_NOT_SEEN.event(customer_id=customer_id, data={
        "reply": reply, "task": task, "waited_until": waited_until})


@_builds(MAILBOX_FETCHED)
def mailbox_fetched(*, stored: int, duplicates: int, bounces: int, uidvalidity: int | None, last_uid: int,
                    uidvalidity_changed: bool) -> NewEvent:
    return MAILBOX_FETCHED.event(data={"stored": stored, "duplicates": duplicates, "bounces": bounces,
                                       "uidvalidity": uidvalidity, "last_uid": last_uid,
                                       "uidvalidity_changed": uidvalidity_changed})


@_builds(MAILBOX_FAILED)
def mailbox_failed(*, error: str) -> NewEvent:
    return MAILBOX_FAILED.event(data={"error": error})
