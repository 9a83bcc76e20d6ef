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


# ---- 述职 review and the annual assessment


class IndicatorInline(admin.TabularInline):
    model = models.Indicator
    extra = 0


@admin.register(models.IndicatorSet)
class IndicatorSetAdmin(admin.ModelAdmin):
    list_display = ["year", "title", "threshold", "bottom_n"]
    inlines = [IndicatorInline]


class ScoreInline(admin.TabularInline):
    model = models.Score
    extra = 0
    raw_id_fields = ["indicator"]


@admin.register(models.Sheet)
class SheetAdmin(admin.ModelAdmin):
    list_display = ["department", "indicator_set", "group", "state", "total", "rank", "vetoed"]
    list_filter = ["indicator_set", "group", "state"]
    raw_id_fields = ["department", "first_by", "second_by"]
    inlines = [ScoreInline]


@admin.register(models.Interview)
class InterviewAdmin(admin.ModelAdmin):
    list_display = ["sheet", "state", "held_on", "deadline", "closed_on"]
    list_filter = ["state"]


class ReviewerInline(admin.TabularInline):
    model = models.Reviewer
    extra = 0
    raw_id_fields = ["user"]


@admin.register(models.ReviewSession)
class ReviewSessionAdmin(admin.ModelAdmin):
    list_display = ["year", "department", "speaker", "held_on", "state", "result"]
    list_filter = ["year", "state"]
    inlines = [ReviewerInline]
