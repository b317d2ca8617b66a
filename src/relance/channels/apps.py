from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "relance.channels"
    label = "channels"
