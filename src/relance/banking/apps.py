from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "relance.banking"
    label = "banking"
    verbose_name = "Banque"
