from django.contrib import admin

from yingji.enforcement import models


@admin.register(models.Matter)
class MatterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "department", "active"]
    list_filter = ["category", "active"]
    search_fields = ["code", "name"]


class ConflictInline(admin.TabularInline):
    model = models.ConflictDeclaration
    extra = 0
    raw_id_fields = ["enterprise"]


@admin.register(models.Inspector)
class InspectorAdmin(admin.ModelAdmin):
    list_display = ["name", "certificate_number", "department", "certificate_valid_to", "active"]
    list_filter = ["department", "active"]
    search_fields = ["name", "certificate_number"]
    filter_horizontal = ["districts"]
    inlines = [ConflictInline]


@admin.register(models.Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "received_on", "summary"]
    raw_id_fields = ["enterprise"]


@admin.register(models.InspectionPlan)
class InspectionPlanAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "department", "seed_source", "seed_fixed_at"]
    # The seed is set only through the announce-then-fix workflow (services), never typed here.
    readonly_fields = [
        "seed_source",
        "seed_announced_at",
        "seed_salt_sha256",
        "seed_value",
        "seed",
        "seed_fixed_at",
    ]
    exclude = ["seed_salt"]  # secret until the draw's inputs are published


@admin.register(models.Draw)
class DrawAdmin(admin.ModelAdmin):
    list_display = ["plan", "label", "status", "algorithm", "drawn_at", "verified_ok"]
    list_filter = ["status", "kind"]
    exclude = ["inputs", "result"]

    def has_change_permission(self, request, obj=None):  # the draw log is never edited
        return False


@admin.register(models.Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = [
        "enterprise",
        "window_label",
        "kind",
        "category",
        "state",
        "outcome",
        "publish_by",
    ]
    list_filter = ["kind", "state", "category"]
    raw_id_fields = ["enterprise", "draw"]


@admin.register(models.ExemptionRule)
class ExemptionRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "clause", "order", "active"]


@admin.register(models.Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["inspection", "checklist_code", "major", "exemption"]
    raw_id_fields = ["inspection", "hazard"]


class CaseEventInline(admin.TabularInline):
    model = models.CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "from_state", "to_state", "on", "actor_label", "comment", "amount"]


@admin.register(models.PenaltyCase)
class PenaltyCaseAdmin(admin.ModelAdmin):
    list_display = ["number", "enterprise", "department", "state", "amount", "opened_on"]
    list_filter = ["state", "department"]
    # State moves only through the transition table (services.transition_case).
    readonly_fields = ["state", "decided_on", "closed_on", "outcome"]
    inlines = [CaseEventInline]
    raw_id_fields = ["enterprise", "inspection"]


@admin.register(models.DishonestyListing)
class DishonestyListingAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "decided_by", "listed_on", "expires_on", "removed_on"]
    raw_id_fields = ["enterprise", "case"]


@admin.register(models.Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ["enterprise_name", "inspected_on", "published_at", "late_workdays"]


class LookbackItemInline(admin.TabularInline):
    model = models.LookbackItem
    extra = 0
    raw_id_fields = ["enterprise", "hazard"]


@admin.register(models.LookbackCase)
class LookbackCaseAdmin(admin.ModelAdmin):
    list_display = [
        "accident",
        "reason",
        "district",
        "report_approved_on",
        "due_on",
        "state",
        "conclusion",
    ]
    list_filter = ["state", "conclusion", "reason", "district"]
    search_fields = ["accident__code"]
    raw_id_fields = ["accident"]
    inlines = [LookbackItemInline]
