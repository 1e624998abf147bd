"""Admin for the install-wide superuser only (centres/separation.py): centres, memberships,
tokens and users. Patient data is deliberately not registered here: the admin does not go
through centre scoping, so patient rows are reachable only via the scoped views and API.
A centre's own users, roles and tokens are managed in the app's pages (web/ui/users.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User

from cartwatch.web.centres.models import ApiToken, Centre, Membership
from cartwatch.web.centres.separation import MEMBER_IS_NEVER_ADMIN, is_install_admin_flagged


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "created_at")


class MembershipForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Membership
        fields = ("user", "centre", "role")

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        if is_install_admin_flagged(user):
            raise forms.ValidationError(MEMBER_IS_NEVER_ADMIN)
        return user


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = MembershipForm
    list_display = ("user", "role", "centre")
    list_filter = ("role", "centre")


class InstallUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        flagged = cleaned.get("is_superuser") or cleaned.get("is_staff")
        if flagged and Membership.objects.filter(user_id=self.instance.pk).exists():
            raise forms.ValidationError(MEMBER_IS_NEVER_ADMIN)
        return cleaned


admin.site.unregister(User)


@admin.register(User)
class InstallUserAdmin(UserAdmin):  # type: ignore[type-arg]
    form = InstallUserChangeForm


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked")
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at")
