from django.contrib import admin

from yingji.core import models


@admin.register(models.Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "boundary_synthetic"]
    list_filter = ["level", "boundary_synthetic"]
    search_fields = ["code", "name"]
    exclude = ["boundary"]


class AliasInline(admin.TabularInline):
    model = models.DepartmentAlias
    extra = 0


@admin.register(models.Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "email", "active", "merged_into"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "aliases__alias"]
    inlines = [AliasInline]


@admin.register(models.Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "full_name", "role", "department", "region"]
    list_filter = ["role", "department"]
    search_fields = ["full_name", "user__username"]


@admin.register(models.AccountSecurity)
class AccountSecurityAdmin(admin.ModelAdmin):
    """When each account's password was set; tick 下次登录须修改密码 to force a change."""

    list_display = ["user", "password_changed_at", "must_change_password"]
    list_filter = ["must_change_password"]
    search_fields = ["user__username"]
    fields = ["user", "password_changed_at", "must_change_password"]
    readonly_fields = ["user", "password_changed_at"]

    def has_add_permission(self, request):
        return False


@admin.register(models.AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor_label"]
    readonly_fields = ["prev_hash", "hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "address",
        "subject",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "delivered_at",
        "via",
    ]
    list_filter = ["status", "channel", "via"]
    search_fields = ["address", "subject", "provider_id", "dedupe_key"]
    raw_id_fields = ["recipient", "department"]
    ordering = ["-id"]  # the id index: the ledger may hold millions of rows
    show_full_result_count = False


@admin.register(models.SpecialPeriod)
class SpecialPeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "start", "end"]


from yingji.core import admin_departments  # noqa: E402,F401
