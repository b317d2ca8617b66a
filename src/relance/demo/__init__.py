"""The demonstration: ``dataset.py`` generates a realistic French ledger (customers,
invoices, payments, a FEC and a bank statement), also used by the benchmarks; ``run.py``
replays months of daily work on it through the real services and leaves a folder whose web
app and commands live on the demo's day."""
