from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "cartwatch.web.imports"
    label = "imports"
    verbose_name = "Imported FHIR resources"
