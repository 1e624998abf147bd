"""Django's admin app with the install-wide-superuser-only site (centres/separation.py)."""

from django.contrib.admin.apps import AdminConfig


class InstallAdminConfig(AdminConfig):
    default_site = "cartwatch.web.centres.separation.InstallAdminSite"
