from django.apps import AppConfig


class HoldsConfig(AppConfig):
    name = "relance.holds"
    label = "holds"
    verbose_name = "Suspensions et échéanciers"
