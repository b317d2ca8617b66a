"""The JSON API (``/api/…``): thin views that parse a request, call the same service and
query functions as the pages and the CLI, and map typed errors (``relance.errors``) to HTTP
statuses. It reuses the web app's login and organisation scoping; nothing is computed here."""
