"""Payer profiles: rules over twelve months of a customer's history (amounts, days late,
reminders needed) choose the scenario each customer follows; assigned each day before planning,
with an event when a customer changes profile."""
