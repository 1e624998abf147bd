from __future__ import annotations

from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "cartwatch.web.ui"
    label = "ui"
    verbose_name = "cartwatch pages"
