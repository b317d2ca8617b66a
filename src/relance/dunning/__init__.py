"""The reminders themselves. Scenarios and steps say what to send when; the planner
(``services/planner.py``) turns each day's due invoices into reminders (one per customer, step
and day, rules of ``core.escalation``); the dispatcher claims each one, re-checks its invoices,
composes the message and hands it to a channel, then records the outcome and the events;
approvals, retries, « à vérifier » and calls are the people's part. It listens to the ledger
(settlements cancel pending reminders), to ``relance.holds`` (a hold starts, a promise breaks,
an instalment falls due) and to ``relance.rates`` (a missing rate arrives)."""
