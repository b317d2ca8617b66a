from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "relance.profiles"
    label = "profiles"
    verbose_name = "Profils de payeurs"
