from django.apps import AppConfig


class LitigationConfig(AppConfig):
    name = "relance.litigation"
    label = "litigation"
    verbose_name = "Contentieux"
