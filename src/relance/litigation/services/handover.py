"""A case's file handed to whoever pursues it: a lawyer, a commissaire de justice or a collection
agency, configured per organisation (:func:`save_recipient`).

:func:`hand_over` takes the case's latest documents (producing them to today when there are none):

* ``attachment`` — one email through the dispatcher (a ``case_handover`` reminder: queued at once,
  sent exactly once, ``case_handover.sent`` with the SHA-256 of what was joined) carrying one ZIP:
  the evidence file, the request, the small-claims file when there is one, and the originals with
  their manifest (:func:`bundle`);
* ``link`` — the same email with a download link instead, valid ``link_days`` days (a signed
  token: nothing to guess, nothing stored to leak; each download leaves
  ``litigation.link_downloaded``);
* ``download`` — a person downloads the ZIP to hand it over themselves.

Each hand-over leaves ``litigation.handed_over`` with the documents and their hashes; a case still
« ouvert » becomes « transmis » to that recipient in the same transaction.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction

from relance import clock
from relance.core.formatting import long_date, money
from relance.core.policy import Channel
from relance.dunning.models import Reminder, ReminderLine
from relance.dunning.services.queue import queue_send
from relance.errors import InvalidInput, NotFound
from relance.events import kinds
from relance.events.services import record_many
from relance.ledger.models import Invoice, Organisation

from ..models import CaseDocument, Handover, HandoverRecipient, LitigationCase
from .cases import _move, lock_case
from .documents import latest_documents, produce_documents, removed_on_error

LINK_SALT = "relance.litigation.handover-link"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# ------------------------------------------------------------------------------------------
# Recipients
# ------------------------------------------------------------------------------------------


def save_recipient(organisation: Organisation, *, pk: int | None = None, kind: str, name: str, email: str = "",
                   address: str = "", reference: str = "", delivery: str = HandoverRecipient.Delivery.ATTACHMENT,
                   link_days: int = 14, active: bool = True, actor: str) -> HandoverRecipient:
    """Create or change a recipient of the organisation's cases."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if kind not in HandoverRecipient.Kind.values:
        raise InvalidInput(f"profession inconnue : « {kind} » (attendu : {', '.join(HandoverRecipient.Kind.values)})")
    if delivery not in HandoverRecipient.Delivery.values:
        raise InvalidInput(f"envoi inconnu : « {delivery} » (attendu : {', '.join(HandoverRecipient.Delivery.values)})")
    name = " ".join(name.split())[:200]
    if not name:
        raise InvalidInput("indiquez le nom du destinataire (cabinet, étude, société)")
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise InvalidInput(f"adresse e-mail invalide : « {email} »") from exc
    if not 1 <= int(link_days) <= 90:
        raise InvalidInput("la validité du lien est de 1 à 90 jours")
    with transaction.atomic():
        if pk is None:
            recipient = HandoverRecipient(organisation=organisation)
        else:
            found = HandoverRecipient.objects.select_for_update().filter(organisation=organisation, pk=pk).first()
            if found is None:
                raise NotFound(f"destinataire n° {pk} introuvable")
            recipient = found
        if HandoverRecipient.objects.filter(organisation=organisation, name=name).exclude(pk=recipient.pk).exists():
            raise InvalidInput(f"un destinataire s’appelle déjà « {name} »")
        recipient.kind, recipient.name, recipient.email = kind, name, email
        recipient.address, recipient.reference = address.strip()[:1000], reference.strip()[:100]
        recipient.delivery, recipient.link_days, recipient.active = delivery, int(link_days), bool(active)
        recipient.save()
    return recipient


def _recipient(organisation: Organisation, recipient: HandoverRecipient | int | None) -> HandoverRecipient | None:
    if recipient is None or isinstance(recipient, HandoverRecipient):
        return recipient
    found = HandoverRecipient.objects.filter(organisation=organisation, pk=recipient).first()
    if found is None:
        raise NotFound(f"destinataire n° {recipient} introuvable")
    return found


# ------------------------------------------------------------------------------------------
# The bundle
# ------------------------------------------------------------------------------------------


def _read(doc: CaseDocument) -> bytes:
    with doc.file.open("rb") as fh:
        content = fh.read()
    if hashlib.sha256(content).hexdigest() != doc.sha256:
        raise InvalidInput(f"« {doc.title} » a changé depuis sa production (empreinte différente) : produisez de "
                           "nouveau le dossier")
    return content


def bundle(case: LitigationCase, documents: list[CaseDocument]) -> tuple[str, bytes]:
    """One ZIP of the hand-over: the PDFs at the top, numbered; the originals' ZIP unpacked under
    ``pieces/`` (its manifest with it). Same documents, same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        n = 0
        for doc in documents:
            content = _read(doc)
            if doc.kind == CaseDocument.Kind.EVIDENCE_ZIP:
                with zipfile.ZipFile(io.BytesIO(content)) as inner:
                    for info in sorted(inner.infolist(), key=lambda i: i.filename):
                        if info.is_dir():
                            continue
                        entry = zipfile.ZipInfo(f"pieces/{info.filename}", ZIP_TIME)
                        entry.compress_type = zipfile.ZIP_DEFLATED
                        archive.writestr(entry, inner.read(info))
                continue
            n += 1
            stored = (doc.file.name or "document").rsplit("/", 1)[-1].split("-", 1)[-1]  # without the hash prefix
            entry = zipfile.ZipInfo(f"{n:02d}-{stored}", ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, content)
    return f"dossier-contentieux-{case.pk}.zip", out.getvalue()


# ------------------------------------------------------------------------------------------
# Links
# ------------------------------------------------------------------------------------------


def link_token(handover: Handover) -> str:
    return signing.dumps({"h": handover.pk, "c": handover.case_id}, salt=LINK_SALT)


def link_handover(token: str) -> Handover:
    """The hand-over a download link names, while it is valid; :class:`NotFound` otherwise
    (expired, altered or unknown: the page says the same for each)."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=timedelta(days=90))
    except signing.BadSignature as exc:
        raise NotFound("lien de téléchargement invalide ou expiré") from exc
    found = (Handover.objects.select_related("case", "case__organisation", "case__customer", "recipient")
             .filter(pk=data.get("h"), case_id=data.get("c"), method=Handover.Method.LINK).first())
    if found is None or found.link_expires_at is None or found.link_expires_at < clock.now():
        raise NotFound("lien de téléchargement invalide ou expiré")
    return found


def public_url(path: str) -> str:
    base = getattr(settings, "RELANCE_PUBLIC_URL", "")
    if not base:
        raise InvalidInput("pour envoyer un lien de téléchargement, indiquez l’adresse publique de relance "
                           "(variable RELANCE_PUBLIC_URL, par exemple https://relance.example.fr) ; ou joignez "
                           "le dossier à l’e-mail")
    return base.rstrip("/") + path


# ------------------------------------------------------------------------------------------
# The hand-over
# ------------------------------------------------------------------------------------------


def _message(organisation: Organisation, case: LitigationCase, recipient: HandoverRecipient, total: Decimal,
             currency: str, numbers: list[str], link: str, expires: date | None, on: date) -> tuple[str, str]:
    customer = case.customer
    subject = f"Dossier de recouvrement n°\u00a0{case.pk} — {customer.legal_name} — {money(total, currency)}"
    lines = ["Bonjour,", "",
             f"Nous vous transmettons le dossier de recouvrement de notre créance sur {customer.legal_name}"
             + (f" (SIREN {customer.siren})" if customer.siren else "")
             + f", d’un montant restant dû de {money(total, currency)} au {long_date(on)} "
             f"(facture{'s' if len(numbers) > 1 else ''} n°\u00a0{', '.join(numbers)}).", ""]
    if recipient.reference:
        lines += [f"Notre référence chez vous\u00a0: {recipient.reference}.", ""]
    if link:
        assert expires is not None
        lines += ["Le dossier (relevé de compte, factures, relances, mise en demeure et avis de réception, décompte "
                  "des sommes dues, requête en injonction de payer) est à télécharger jusqu’au "
                  f"{long_date(expires)} :", link, ""]
    else:
        lines += ["Vous trouverez en pièce jointe le dossier (relevé de compte, factures, relances, mise en demeure "
                  "et avis de réception, décompte des sommes dues, requête en injonction de payer) et les pièces "
                  "originales avec leurs empreintes SHA-256.", ""]
    lines += ["Nous restons à votre disposition pour tout complément.", "", "Cordialement,"]
    return subject, "\n".join(lines)


def hand_over(organisation: Organisation, case: LitigationCase | int, *, recipient: HandoverRecipient | int | None,
              method: str, actor: str, on: date) -> Handover:
    """Hand the case's file to ``recipient`` by ``method`` (attachment, link, download) on ``on``."""
    if method not in Handover.Method.values:
        raise InvalidInput(f"mode de transmission inconnu : « {method} » (attendu : {', '.join(Handover.Method.values)})")
    chosen = _recipient(organisation, recipient)
    if method != Handover.Method.DOWNLOAD:
        if chosen is None:
            raise InvalidInput("choisissez le destinataire du dossier")
        if not chosen.email:
            raise InvalidInput(f"« {chosen.name} » n’a pas d’adresse e-mail : complétez-la ou téléchargez le dossier")
    if chosen is not None and not chosen.active:
        raise InvalidInput(f"« {chosen.name} » n’est plus un destinataire actif")
    pk = case.pk if isinstance(case, LitigationCase) else case
    current = LitigationCase.objects.filter(organisation=organisation, pk=pk).first()
    if current is None:
        raise NotFound(f"dossier de contentieux n° {pk} introuvable")
    if current.state == LitigationCase.State.CLOSED:
        raise InvalidInput("le dossier est clôturé : il n’y a plus rien à transmettre")
    if method == Handover.Method.LINK:
        public_url("/")  # refused before anything is produced when the public address is unknown
    if method != Handover.Method.DOWNLOAD and not Invoice.objects.filter(litigation_lines__case=current,
                                                                          status=Invoice.Status.OPEN).exists():
        raise InvalidInput("toutes les factures du dossier sont réglées : il n’y a plus rien à transmettre")
    latest = latest_documents(current)
    if not latest or any(d.as_of != on for d in latest):
        produce_documents(organisation, current, actor=actor, as_of=on)  # the figures of the hand-over's day
    documents = latest_documents(current)
    link = ""
    expires_at = None
    with removed_on_error() as saved, transaction.atomic():
        case = lock_case(organisation, pk, with_invoices=True)
        if case.state == LitigationCase.State.CLOSED:
            raise InvalidInput("le dossier est clôturé : il n’y a plus rien à transmettre")
        handover = Handover.objects.create(case=case, recipient=chosen, method=method, on=on, actor=actor[:150])
        handover.documents.set(documents)
        events = []
        reminder = None
        if method == Handover.Method.LINK:
            assert chosen is not None
            expires_at = clock.now() + timedelta(days=chosen.link_days)
            handover.link_expires_at = expires_at
            handover.save(update_fields=["link_expires_at"])
            from django.urls import reverse

            link = public_url(reverse("web:case_download", kwargs={"token": link_token(handover)}))
        if method != Handover.Method.DOWNLOAD:
            assert chosen is not None
            reminder, planned = _plan_email(organisation, case, chosen, handover, documents, link,
                                            clock.today_for(organisation, expires_at) if expires_at else None, on,
                                            actor, saved)
            events.append(planned)
        if case.state == LitigationCase.State.OPENED and chosen is not None:
            kind = _move(case.state, LitigationCase.State.FILED)
            case.state, case.filed_on, case.handled_by = LitigationCase.State.FILED, on, chosen.name[:200]
            case.recipient = chosen
            case.save(update_fields=["state", "filed_on", "handled_by", "recipient"])
            events.append(kinds.litigation_moved(kind, customer_id=case.customer_id, actor=actor, case=case.pk,
                                                 filed_on=on, handled_by=case.handled_by, note=""))
        events.insert(0, kinds.litigation_handover(
            kinds.LITIGATION_HANDED_OVER, customer_id=case.customer_id, case=case.pk, handover=handover.pk,
            method=method, recipient=chosen.name if chosen else "", reminder_id=reminder.pk if reminder else None,
            documents=[{"id": d.pk, "title": d.title, "sha256": d.sha256} for d in documents], actor=actor,
            link_expires_at=expires_at))
        record_many(organisation, events)
        if reminder is not None:
            queue_send(reminder.pk)
    return handover


def _plan_email(organisation: Organisation, case: LitigationCase, recipient: HandoverRecipient, handover: Handover,
                documents: list[CaseDocument], link: str, expires: date | None, on: date, actor: str,
                saved: list) -> tuple[Reminder, kinds.NewEvent]:
    invoices = list(Invoice.objects.filter(litigation_lines__case=case, status=Invoice.Status.OPEN)
                    .order_by("due_date", "number"))
    if not invoices:
        raise InvalidInput("toutes les factures du dossier sont réglées : il n’y a plus rien à transmettre")
    total = sum((i.amount_due for i in invoices), Decimal("0.00"))
    numbers = [i.number for i in invoices]
    subject, text = _message(organisation, case, recipient, total, invoices[0].currency, numbers, link, expires, on)
    key = hashlib.sha256(f"relance:case-handover:{organisation.pk}:{handover.pk}".encode()).hexdigest()[:32]
    reminder = Reminder(organisation=organisation, customer=case.customer, kind=Reminder.Kind.CASE_HANDOVER,
                        channel=Channel.EMAIL, planned_for=on, idempotency_key=key, subject=subject[:300],
                        body_text=text, recipient=_recipient_text(recipient))
    if not link:
        name, content = bundle(case, documents)
        reminder.document.save(f"{organisation.slug}/{on.isoformat()}/{name}", ContentFile(content), save=False)
        saved.append(reminder.document)
        reminder.document_sha256 = hashlib.sha256(content).hexdigest()
    reminder.body_html = "".join(f"<p>{_html(p)}</p>" for p in text.split("\n\n"))
    reminder.save()
    ReminderLine.objects.bulk_create([ReminderLine(reminder=reminder, invoice=i, step_position=i.last_step_position,
                                                   amount_due=i.amount_due) for i in invoices])
    handover.reminder = reminder
    handover.save(update_fields=["reminder"])
    planned = kinds.reminder_planned(customer_id=case.customer_id, reminder_id=reminder.pk, key=key,
                                     step=str(Reminder.Kind.CASE_HANDOVER.label), channel=Channel.EMAIL,
                                     kind=Reminder.Kind.CASE_HANDOVER, invoices=numbers, total_due=total, actor=actor)
    return reminder, planned


def _recipient_text(recipient: HandoverRecipient) -> str:
    """« Name <address> » as the dispatcher reads it back (the address after the last « < »): the
    name without what could end it early, shortened so that the address is never cut."""
    name = " ".join("".join(c for c in recipient.name if c not in '<>",;').split())
    return f"{name[:300 - len(recipient.email) - 3]} <{recipient.email}>"


def _html(paragraph: str) -> str:
    from django.utils.html import escape, urlize

    return urlize(escape(paragraph)).replace("\n", "<br>")

