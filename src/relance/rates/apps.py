from django.apps import AppConfig


class RatesConfig(AppConfig):
    name = "relance.rates"
    label = "rates"
    verbose_name = "Taux légaux"
