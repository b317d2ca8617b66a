"""Bank statements: import, automatic matching of receipts to invoices, review list."""
