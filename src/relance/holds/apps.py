from django.apps import AppConfig


class HoldsConfig(AppConfig):
    name = "relance.holds"
    label = "holds"
    verbose_name = "Suspensions et échéanciers"

    def ready(self) -> None:
        """Connect the receivers of the ledger's signals, once. ``holds`` comes before ``dunning``
        in INSTALLED_APPS, so on a settlement the promises and plans are brought up to date before
        dunning cancels and thanks (``dunning.handlers``)."""
        from relance.ledger.signals import collective_holds, invoices_settled

        from .services.collective import pause_collective_accounts
        from .services.settlement import keep_promises_and_refresh_plans

        invoices_settled.connect(keep_promises_and_refresh_plans, dispatch_uid="holds.keep_promises_and_refresh_plans")
        collective_holds.connect(pause_collective_accounts, dispatch_uid="holds.pause_collective_accounts")
