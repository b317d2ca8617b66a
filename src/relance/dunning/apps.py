from django.apps import AppConfig


class DunningConfig(AppConfig):
    name = "relance.dunning"
    label = "dunning"
    verbose_name = "Relances"

    def ready(self) -> None:
        from relance.rates.signals import rate_added  # rates announces a rate; dunning requeues what waited

        from .receivers_rates import requeue_rate_blocked

        rate_added.connect(requeue_rate_blocked, dispatch_uid="dunning.requeue_rate_blocked")

        from relance.ledger.signals import invoices_moved, invoices_settled

        from .handlers import on_invoices_moved, on_invoices_settled

        invoices_settled.connect(on_invoices_settled, dispatch_uid="dunning.on_invoices_settled")
        invoices_moved.connect(on_invoices_moved, dispatch_uid="dunning.on_invoices_moved")

        from relance.ledger.signals import collective_holds

        from .services.collective_holds import on_collective_holds

        collective_holds.connect(on_collective_holds, dispatch_uid="dunning.on_collective_holds")
