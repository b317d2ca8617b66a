from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "relance.documents"
    label = "documents"
