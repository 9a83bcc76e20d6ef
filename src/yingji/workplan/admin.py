from django.contrib import admin

from yingji.workplan import models


class AssignmentInline(admin.TabularInline):
    model = models.Assignment
    extra = 0


class MilestoneInline(admin.TabularInline):
    model = models.Milestone
    extra = 0


@admin.register(models.Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "imported_at"]


@admin.register(models.Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["number", "short", "plan", "section", "due", "recurrence"]
    list_filter = ["plan", "section"]
    search_fields = ["text"]
    inlines = [AssignmentInline, MilestoneInline]


@admin.register(models.ProgressReport)
class ProgressReportAdmin(admin.ModelAdmin):
    list_display = ["task", "department", "percent", "reported_at", "addressed_to"]
    list_filter = ["department"]


@admin.register(models.SupervisionNotice)
class SupervisionNoticeAdmin(admin.ModelAdmin):
    list_display = [
        "serial",
        "task",
        "department",
        "issued_at",
        "respond_by",
        "responded_at",
        "escalated_at",
    ]


@admin.register(models.Pause)
class PauseAdmin(admin.ModelAdmin):
    list_display = ["task", "state", "requested_at", "decided_at"]


@admin.register(models.Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    list_display = ["plan", "label", "as_of", "generated_at"]
