"""Admin for user management only. Patient data is deliberately not registered here: the
admin does not go through centre scoping, so patient rows are reachable only via the
scoped views and API."""

from django.contrib import admin

from cartwatch.web.centres.models import ApiToken, Centre, Membership


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "created_at")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "role", "centre")
    list_filter = ("role", "centre")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked")
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at")
