from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "relance.operations"
    label = "operations"
    verbose_name = "Exploitation"

    def ready(self) -> None:
        from django.conf import settings

        from relance import clock

        # A demo folder lives on its demo day (settings.RELANCE_DEMO_DAY, read from the folder by settings.py):
        # every page, command and service of that process sees that date.
        demo_day = getattr(settings, "RELANCE_DEMO_DAY", None)
        if demo_day is not None:
            clock.pin_day(demo_day, settings.RELANCE_DEMO_ZONE)
