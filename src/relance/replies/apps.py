from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "relance.replies"
    label = "replies"
    verbose_name = "Réponses des clients"
