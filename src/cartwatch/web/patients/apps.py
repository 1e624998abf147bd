from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "cartwatch.web.patients"
    label = "patients"
    verbose_name = "Patient data"

    def ready(self) -> None:
        # Connects the create/update/delete audit signals for every patient-data model.
        from cartwatch.web.audit import signals  # noqa: F401
