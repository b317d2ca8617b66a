"""Money in from the bank: statements (camt.053/054, OFX, MT940, CFONB) are read by ``core.formats.bank``,
stored by batches, and each receipt is matched to invoices by the pure matcher of ``core.matching``
(RF reference, invoice numbers, amount and a payer seen before). A certain match records a payment
through the ledger's ``payments`` service (allocation C. civ. 1342-10, settlement signal); the
rest waits in the review list for a person."""
