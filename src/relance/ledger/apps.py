from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "relance.ledger"
    label = "ledger"
    verbose_name = "Comptabilité clients"
