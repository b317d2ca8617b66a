from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "relance.profiles"
    label = "profiles"
    verbose_name = "Profils de payeurs"

    def ready(self) -> None:
        from relance.ledger.signals import organisation_created

        from .services import install_for_new_organisation

        organisation_created.connect(install_for_new_organisation, dispatch_uid="profiles.install_for_new_organisation")
