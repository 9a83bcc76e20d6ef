from django.contrib import admin

from yingji.monitoring.models import (
    Alarm,
    AlarmEvent,
    AlarmRule,
    DeadLetter,
    IngestToken,
    RegionalLevel,
    Sensor,
    Silence,
)


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "unit", "district", "street", "department", "status")
    list_filter = ("type", "status", "district")
    search_fields = ("code", "name", "linked_to")
    raw_id_fields = ("district", "street")
    # Named thresholds (专属阈值) are edited here as JSON: {"警戒水位": 3.2}.


@admin.register(AlarmRule)
class AlarmRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "sensor_type",
        "metric",
        "blue",
        "yellow",
        "orange",
        "red",
        "window_s",
        "for_s",
        "active",
    )
    list_filter = ("metric", "sensor_type", "active")


class AlarmEventInline(admin.TabularInline):
    model = AlarmEvent
    extra = 0
    readonly_fields = ("at", "state", "level", "note")


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ("rule", "sensor", "area", "state", "level", "started_at", "resolved_at")
    list_filter = ("state", "level", "hazard")
    raw_id_fields = ("sensor", "area", "acknowledged_by")
    inlines = [AlarmEventInline]


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    list_display = (
        "reason",
        "rule",
        "sensor",
        "region_code",
        "hazard",
        "maintenance",
        "starts_at",
        "ends_at",
    )
    raw_id_fields = ("sensor",)


@admin.register(RegionalLevel)
class RegionalLevelAdmin(admin.ModelAdmin):
    list_display = ("region", "hazard", "level", "updated_at")
    list_filter = ("hazard", "level")


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("received_at", "source", "topic", "reason")
    list_filter = ("source",)
    search_fields = ("reason", "payload")


@admin.register(IngestToken)
class IngestTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "active")
    exclude = ("token_sha256",)
