"""URL map: the HTML pages (each view declares its permission with access.scoped), the
admin site for user management, and the API (access.scope in every endpoint)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from cartwatch.web.api.main import api

urlpatterns = [
    path("", include("cartwatch.web.ui.urls")),  # "/", sign-in and sign-out, the pages
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

# A refusal explains itself: the reason and the menu (ui/views/layout.py).
handler403 = "cartwatch.web.ui.views.layout.forbidden"
