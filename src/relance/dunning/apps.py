from django.apps import AppConfig


class DunningConfig(AppConfig):
    name = "relance.dunning"
    label = "dunning"
    verbose_name = "Relances"

    def ready(self) -> None:
        from relance.rates.signals import rate_added  # rates announces a rate; dunning requeues what waited

        from .receivers_rates import requeue_rate_blocked

        rate_added.connect(requeue_rate_blocked, dispatch_uid="dunning.requeue_rate_blocked")

        # dunning's receivers of the ledger and the holds, once each (dunning/handlers.py)
        from relance.holds.signals import hold_started, instalment_due, plan_ended, promise_broken
        from relance.ledger.signals import invoices_moved, invoices_settled

        from . import handlers

        invoices_settled.connect(handlers.stop_chasing_settled_invoices,
                                 dispatch_uid="dunning.stop_chasing_settled_invoices")
        invoices_moved.connect(handlers.cancel_reminders_of_moved_invoices,
                               dispatch_uid="dunning.cancel_reminders_of_moved_invoices")
        hold_started.connect(handlers.withdraw_held_from_approval, dispatch_uid="dunning.withdraw_held_from_approval")
        plan_ended.connect(handlers.cancel_messages_of_ended_plan, dispatch_uid="dunning.cancel_messages_of_ended_plan")
        promise_broken.connect(handlers.plan_promise_broken_message, dispatch_uid="dunning.plan_promise_broken_message")
        instalment_due.connect(handlers.plan_instalment_message, dispatch_uid="dunning.plan_instalment_message")
