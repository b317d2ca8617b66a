from django.apps import AppConfig


class DunningConfig(AppConfig):
    name = "relance.dunning"
    label = "dunning"
    verbose_name = "Relances"

    def ready(self) -> None:
        """Dunning hears the apps below it; each receiver is connected once, here."""
        from relance.holds.signals import hold_started, instalment_due, instalment_notice, plan_ended, promise_broken
        from relance.ledger.signals import invoices_moved, invoices_settled, organisation_created
        from relance.rates.signals import rate_added

        from . import handlers
        from .receivers_rates import requeue_rate_blocked
        from .services.scenarios import install_for_new_organisation

        # the ledger
        organisation_created.connect(install_for_new_organisation, dispatch_uid="dunning.install_for_new_organisation")
        invoices_settled.connect(handlers.stop_chasing_settled_invoices,
                                 dispatch_uid="dunning.stop_chasing_settled_invoices")
        invoices_moved.connect(handlers.cancel_reminders_of_moved_invoices,
                               dispatch_uid="dunning.cancel_reminders_of_moved_invoices")
        # the holds
        hold_started.connect(handlers.withdraw_held_from_approval, dispatch_uid="dunning.withdraw_held_from_approval")
        plan_ended.connect(handlers.cancel_messages_of_ended_plan, dispatch_uid="dunning.cancel_messages_of_ended_plan")
        promise_broken.connect(handlers.plan_promise_broken_message, dispatch_uid="dunning.plan_promise_broken_message")
        instalment_due.connect(handlers.plan_instalment_message, dispatch_uid="dunning.plan_instalment_message")
        instalment_notice.connect(handlers.answer_instalment_notice, dispatch_uid="dunning.answer_instalment_notice")
        # the rates: a formal notice that waited for a missing rate goes back to the queue
        rate_added.connect(requeue_rate_blocked, dispatch_uid="dunning.requeue_rate_blocked")
