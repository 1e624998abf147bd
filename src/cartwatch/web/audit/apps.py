from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cartwatch.web.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from cartwatch.web.audit import signals  # noqa: F401
