"""Holds: what stops the reminders of an invoice or a customer — promises to pay, disputes,
pauses, stops and payment plans. The collectors' services (and the ledger's settlements) move
these state machines (``relance.core.holds``, ``relance.core.plans``) and record their events;
what this means for the messages (cancel those awaiting approval, plan a « promesse non tenue »
or an instalment reminder) is announced by the signals of :mod:`relance.holds.signals`, to which
``relance.dunning`` responds. This app sits below dunning and never imports it."""
