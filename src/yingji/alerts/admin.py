from django.contrib import admin

from yingji.alerts.models import (
    Alert,
    AlertArea,
    IncomingCap,
    IncomingFeed,
    Subscriber,
    SubscriberGroup,
)


class AlertAreaInline(admin.TabularInline):
    model = AlertArea
    extra = 0
    raw_id_fields = ["region"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["headline", "msg_type", "cap_status", "state", "population_estimate", "sent"]
    list_filter = ["state", "msg_type", "cap_status", "origin", "hazard", "colour"]
    search_fields = ["headline", "identifier"]
    inlines = [AlertAreaInline]
    # The workflow (four eyes, CAP, deliveries) happens on the alert page, not here.
    readonly_fields = [
        "state",
        "identifier",
        "cap_xml",
        "author",
        "approver",
        "sent",
        "approved_at",
        "submitted_at",
        "references",
    ]


@admin.register(SubscriberGroup)
class SubscriberGroupAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "sort_order"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "phone", "email", "home_region", "opted_out"]
    list_filter = ["opted_out", "groups", "language"]
    search_fields = ["external_id", "name", "phone", "email"]
    raw_id_fields = ["home_region"]
    filter_horizontal = ["groups"]


@admin.register(IncomingFeed)
class IncomingFeedAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active", "last_polled_at", "last_error"]


@admin.register(IncomingCap)
class IncomingCapAdmin(admin.ModelAdmin):
    list_display = ["headline", "sender", "msg_type", "cap_status", "sent", "received_at"]
    search_fields = ["identifier", "headline", "sender"]
