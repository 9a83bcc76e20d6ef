"""Registries of incident command in the admin (Chinese): plans with their
triggers, organisation and action cards (where an imported draft is finished),
resources, duty roster."""

from django.contrib import admin

from yingji.response import models


class TriggerInline(admin.TabularInline):
    model = models.PlanTrigger
    extra = 0


class GroupInline(admin.TabularInline):
    model = models.PlanGroup
    extra = 0
    filter_horizontal = ["members"]


class CardTemplateInline(admin.TabularInline):
    model = models.CardTemplate
    extra = 0


@admin.register(models.EmergencyPlan)
class EmergencyPlanAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "admin_level", "owner", "version", "status", "review_due"]
    list_filter = ["kind", "status"]
    search_fields = ["title"]
    filter_horizontal = ["related"]
    inlines = [TriggerInline, GroupInline, CardTemplateInline]


class StockInline(admin.TabularInline):
    model = models.StockItem
    extra = 0


@admin.register(models.Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "department"]
    inlines = [StockInline]


@admin.register(models.RescueTeam)
class RescueTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "members", "base", "available"]
    list_filter = ["kind", "available"]
    search_fields = ["name"]


@admin.register(models.Shelter)
class ShelterAdmin(admin.ModelAdmin):
    list_display = ["name", "grade", "capacity", "occupancy", "is_open"]
    list_filter = ["grade", "is_open"]


@admin.register(models.DutyShift)
class DutyShiftAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "officer", "leader", "period"]
    filter_horizontal = ["departments"]


@admin.register(models.Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "incident_type", "level", "status", "occurred_at", "is_exercise"]
    list_filter = ["status", "level", "is_exercise", "category"]
    readonly_fields = ["level", "level_reasons"]  # computed, never typed


admin.site.register(models.Helipad)
admin.site.register(models.Hospital)
admin.site.register(models.Drill)
