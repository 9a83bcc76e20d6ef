from django.contrib import admin

from yingji.responsibility import models


class ResponsibleInline(admin.TabularInline):
    model = models.Responsible
    extra = 0


@admin.register(models.DutyObject)
class DutyObjectAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "code"]
    list_filter = ["kind"]
    search_fields = ["name", "code", "region__name"]
    raw_id_fields = ["region"]
    inlines = [ResponsibleInline]


@admin.register(models.Responsible)
class ResponsibleAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "obj", "post", "phone", "app_installed_on"]
    list_filter = ["role", "obj__kind"]
    search_fields = ["name", "phone", "obj__name"]
    raw_id_fields = ["obj"]


@admin.register(models.RegisterRound)
class RegisterRoundAdmin(admin.ModelAdmin):
    list_display = ["year", "district", "update_deadline", "app_deadline", "confirmed_at"]
    list_filter = ["year"]
