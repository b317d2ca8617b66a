"""French labels for what the pages show: event kinds of the journal, channels."""

from __future__ import annotations

EVENT_LABELS: dict[str, str] = {
    "import.completed": "Import terminé",
    "invoice.imported": "Facture importée",
    "invoice.updated": "Facture modifiée",
    "invoice.settled": "Facture soldée",
    "invoice.reopened": "Facture rouverte",
    "payment.recorded": "Paiement enregistré",
    "credit_note.recorded": "Avoir enregistré",
    "reminder.planned": "Relance planifiée",
    "reminder.sent": "Relance envoyée",
    "reminder.failed": "Échec d’envoi",
    "reminder.retry": "Nouvelle tentative d’envoi",
    "reminder.cancelled": "Relance annulée",
    "reminder.uncertain": "Envoi à vérifier",
    "reminder.attachment_missing": "Pièce jointe manquante",
    "thanks.planned": "Remerciement planifié",
    "thanks.sent": "Remerciement envoyé",
    "litigation.opened": "Passage au contentieux",
    "litigation.handover": "Dossier transmis au contentieux",
    "hold.created": "Suspension des relances",
    "hold.ended": "Fin de suspension",
    "call_task.created": "Appel à passer",
    "call.created": "Appel à passer",
    "call.done": "Appel passé",
    "member.added": "Membre ajouté",
    "member.role_changed": "Rôle modifié",
    "member.removed": "Membre retiré",
    "organisation.collector_restriction": "Visibilité des chargés de recouvrement modifiée",
    "customer.assigned": "Client attribué",
    "scenario.created": "Scénario créé",
    "scenario.updated": "Scénario modifié",
    "scenario.default": "Scénario par défaut changé",
    "template.saved": "Modèle de message enregistré",
    "template.reset": "Modèle d’origine rétabli",
}


def event_label(kind: str) -> str:
    """The French label of an event kind, or the code itself when it has none."""
    return EVENT_LABELS.get(kind, kind)
