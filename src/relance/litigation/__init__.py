"""Litigation cases (contentieux): the invoices handed over, their formal notices and proof of
delivery, and what became of them."""
