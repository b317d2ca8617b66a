"""What is owed: organisations, customers, contacts, invoices, credit notes, payments and
their allocation (C. civ. 1342-10), and the imports that fill them (CSV/XLSX, FEC, Factur-X/UBL/CII).
The ledger announces what changed (``signals.py``: invoices settled or moved, an organisation
created) and never imports the apps that react."""
