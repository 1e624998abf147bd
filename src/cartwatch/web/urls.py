"""URL map. HTML pages (added on top of this foundation) go through access.scoped()."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path

from cartwatch.web.api.main import api


def home(request: HttpRequest) -> HttpResponse:
    # Placeholder until the pages land: the API docs are the only UI of the foundation.
    return HttpResponseRedirect(
        "/api/docs" if request.user.is_authenticated else "/accounts/login/"
    )


urlpatterns = [
    path("", include("cartwatch.web.ui.urls")),  # HTML pages first: they own "/" and login
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
