"""The steps of the injonction de payer after the case is opened (C. proc. civ. 1405 to 1425):

* the request is filed with the court's registry (« requête déposée », 1407) — the court is the
  tribunal de commerce between merchants, otherwise the tribunal judiciaire, of the debtor's
  domicile (1406); its name and address are the user's, never guessed;
* the judge's order is issued (« ordonnance rendue », 1409), its copy uploaded;
* the order is served on the debtor by a commissaire de justice (« signifiée », 1411: within six
  months of its date, or it is void), the act uploaded. The service interrupts prescription
  (C. civ. 2241; the request alone does not, Cass. 10 July 1990 n° 89-13.345): each invoice of the
  case gets its ``prescription.interrupted`` event, read by the prescription watch.

Each step is a transition of ``core.litigation`` with its event, in one transaction with the
document that proves it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from relance.clock import today_for
from relance.core import litigation as machine
from relance.errors import InvalidInput
from relance.events import kinds
from relance.events.services import NewEvent, record_many
from relance.ledger.models import Organisation

from ..models import CaseDocument, LitigationCase
from .cases import _move, _refuse, append_note, latest_step_on, lock_case
from .documents import removed_on_error, store_document

#: the document a step may carry, by target state
STEP_DOCUMENTS = {machine.State.REQUEST_FILED: CaseDocument.Kind.OTHER,
                  machine.State.ORDER_ISSUED: CaseDocument.Kind.ORDER,
                  machine.State.SERVED: CaseDocument.Kind.SERVICE}
STEP_TITLES = {machine.State.REQUEST_FILED: "Récépissé de dépôt de la requête",
               machine.State.ORDER_ISSUED: "Ordonnance d’injonction de payer",
               machine.State.SERVED: "Acte de signification de l’ordonnance"}
SERVICE_NOTE = "signification de l’ordonnance d’injonction de payer (C. proc. civ. 1411)"


def _court(case: LitigationCase, court_kind: str, court_name: str, court_address: str) -> None:
    if court_kind:
        if court_kind not in LitigationCase.Court.values:
            raise InvalidInput(f"juridiction inconnue : « {court_kind} » (attendu : "
                               f"{', '.join(LitigationCase.Court.values)})")
        case.court_kind = court_kind
    if court_name.strip():
        case.court_name = court_name.strip()[:200]
    if court_address.strip():
        case.court_address = court_address.strip()[:1000]


def set_court(organisation: Organisation, case: LitigationCase | int, *, court_kind: str, court_name: str,
              court_address: str, actor: str) -> LitigationCase:
    """The court the request goes to (art. 1406), as the user enters it; recorded on the case."""
    with transaction.atomic():
        case = lock_case(organisation, case, with_invoices=False)
        if case.state == LitigationCase.State.CLOSED:
            raise InvalidInput("le dossier est clôturé")
        _court(case, court_kind, court_name, court_address)
        case.save(update_fields=["court_kind", "court_name", "court_address"])
    return case


def record_step(organisation: Organisation, case: LitigationCase | int, target: str, *, actor: str, on: date,
                note: str = "", court_kind: str = "", court_name: str = "", court_address: str = "",
                court_reference: str = "", document: tuple[str, bytes] | None = None) -> LitigationCase:
    """Move the case to ``target`` (request_filed, order_issued, served) on ``on``, with the
    document received at that step if any."""
    if target not in machine.STEP_DATES:
        raise InvalidInput(f"étape inconnue : « {target} » (attendu : {', '.join(machine.STEP_DATES)})")
    with removed_on_error() as saved, transaction.atomic():
        case = lock_case(organisation, case, with_invoices=False)
        kind = _move(case.state, target)
        try:
            machine.validate_step(target, on, case.opened_on, today_for(organisation), latest_step_on(case))
        except machine.CaseInputError as exc:
            raise _refuse(exc) from exc
        _court(case, court_kind, court_name, court_address)
        if target == machine.State.REQUEST_FILED and not (case.court_kind and case.court_name.strip()):
            raise InvalidInput("indiquez la juridiction saisie (tribunal de commerce ou tribunal judiciaire, son nom "
                               "et l’adresse de son greffe) avant d’enregistrer le dépôt de la requête")
        if court_reference.strip():
            case.court_reference = court_reference.strip()[:60]
        field = machine.STEP_DATES[target][0]
        setattr(case, field, on)
        case.state = target
        if note.strip():
            case.note = append_note(case.note, note)
        case.save(update_fields=["state", field, "court_kind", "court_name", "court_address", "court_reference",
                                 "note"])
        data: dict[str, Any] = {"case": case.pk, "on": on, "court_kind": case.court_kind,
                                "court_name": case.court_name, "court_reference": case.court_reference,
                                "note": note.strip()}
        events: list[NewEvent] = []
        if document is not None:
            filename, content = document
            doc, event = store_document(organisation, case, kind=STEP_DOCUMENTS[machine.State(target)],
                                        filename=filename, content=content, actor=actor,
                                        title=STEP_TITLES[machine.State(target)], uploaded=True, saved=saved)
            data["document"] = {"id": doc.pk, "sha256": doc.sha256, "title": doc.title}
            events.append(event)
        events.insert(0, kinds.litigation_moved(kind, customer_id=case.customer_id, actor=actor, **data))
        if target == machine.State.SERVED:
            events += [kinds.prescription_interrupted(customer_id=case.customer_id, invoice_id=line.invoice_id,
                                                      kind="court_action", on=on, note=SERVICE_NOTE, actor=actor)
                       for line in case.lines.all()]
        record_many(organisation, events)
    return case
