from django.contrib import admin

from yingji.risk import models, services


class RiskPointInline(admin.TabularInline):
    model = models.RiskPoint
    fields = ["code", "name", "grade", "responsible_person"]
    readonly_fields = ["grade"]
    extra = 0
    show_change_link = True


@admin.register(models.Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "credit_code",
        "district",
        "street",
        "industry_code",
        "supervising_department",
        "grade",
        "has_major_hazard_installation",
    ]
    list_filter = ["grade", "district", "has_major_hazard_installation", "supervision_overridden"]
    search_fields = ["name", "credit_code"]
    readonly_fields = ["grade", "district", "street"]
    raw_id_fields = ["supervising_department"]
    inlines = [RiskPointInline]

    def save_model(self, request, obj, form, change):
        # The same derivations as every other entry point: location and department.
        _, _, obj.district, obj.street = services.locate(obj.lon, obj.lat)
        services.apply_derived(obj)
        super().save_model(request, obj, form, change)
        services.sync_hazard_copies(obj)


class AssessmentInline(admin.TabularInline):
    model = models.RiskAssessment
    extra = 0
    readonly_fields = ["score", "grade"]


@admin.register(models.RiskPoint)
class RiskPointAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "enterprise", "site_name", "grade", "assessed_on"]
    list_filter = ["grade", "district"]
    search_fields = ["code", "name", "site_name"]
    raw_id_fields = ["enterprise"]
    readonly_fields = ["grade", "assessed_on"]
    inlines = [AssessmentInline]


class PlanInline(admin.StackedInline):
    model = models.RectificationPlan
    extra = 0


class EventInline(admin.TabularInline):
    model = models.HazardEvent
    extra = 0
    readonly_fields = ["action", "from_state", "to_state", "actor_label", "on", "comment"]
    can_delete = False


@admin.register(models.Hazard)
class HazardAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "enterprise",
        "level",
        "source",
        "state",
        "found_on",
        "deadline",
        "district",
        "listed",
    ]
    list_filter = ["state", "level", "source", "district", "listed"]
    search_fields = ["code", "description"]
    raw_id_fields = ["enterprise", "risk_point"]
    # The state moves only through the workflow (services.transition).
    readonly_fields = [
        "state",
        "district",
        "street",
        "industry_code",
        "department",
        "submitted_on",
        "accepted_on",
        "closed_on",
    ]
    inlines = [PlanInline, EventInline]


@admin.register(models.Accident)
class AccidentAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "occurred_at",
        "district",
        "accident_type",
        "deaths",
        "serious_injuries",
        "direct_loss",
        "level",
    ]
    list_filter = ["level", "district", "accident_type"]
    search_fields = ["code", "place"]
    raw_id_fields = ["enterprise"]
    readonly_fields = ["level"]


@admin.register(models.DecreaseTarget)
class DecreaseTargetAdmin(admin.ModelAdmin):
    list_display = ["year", "max_accidents", "max_deaths", "note"]


@admin.register(models.Recheck)
class RecheckAdmin(admin.ModelAdmin):
    list_display = ["hazard", "due", "done_on", "passed"]
    list_filter = ["passed"]


@admin.register(models.LedgerImport)
class LedgerImportAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "kind",
        "filename",
        "status",
        "total_rows",
        "created",
        "updated",
        "unchanged",
    ]
    readonly_fields = [f.name for f in models.LedgerImport._meta.fields]
