from django.apps import AppConfig


class CentresConfig(AppConfig):
    name = "cartwatch.web.centres"
    label = "centres"
    verbose_name = "Centres, memberships and API tokens"
