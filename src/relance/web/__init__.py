"""The collector's pages (Django templates): dashboard, the day's work, customers, invoices,
approvals, calls, bank review, litigation, scenarios and templates, imports, members. Each view
finds the organisation and the user's scope (``scoping.py``), calls one query or service
function and renders (``rendering.py``); it holds no business rule."""
