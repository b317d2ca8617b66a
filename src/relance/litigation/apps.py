from django.apps import AppConfig


class LitigationConfig(AppConfig):
    name = "relance.litigation"
    label = "litigation"
    verbose_name = "Contentieux"

    def ready(self) -> None:
        from relance.dunning.signals import handover_due
        from relance.ledger.signals import invoices_settled

        from .services import on_handover_due, on_invoices_settled

        handover_due.connect(on_handover_due, dispatch_uid="litigation.on_handover_due")
        invoices_settled.connect(on_invoices_settled, dispatch_uid="litigation.on_invoices_settled")
