"""Paper: the PDF layout of a letter for a window envelope (WeasyPrint), the payment
block printed on every letter and email (ISO 11649 reference, EPC QR code), and the payment
plan's agreement letter. Documents receive plain data and return bytes; they read no model."""
