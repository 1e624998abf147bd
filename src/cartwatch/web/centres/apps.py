from django.apps import AppConfig


class CentresConfig(AppConfig):
    name = "cartwatch.web.centres"
    label = "centres"
    verbose_name = "Centres, memberships and API tokens"

    def ready(self) -> None:
        from cartwatch.web.centres import separation  # noqa: F401  (connects the guards)
