from django.urls import path

from yingji.response import views

app_name = "response"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("handover/", views.handover, name="handover"),
    path("desk/<int:item_id>/accept/", views.desk_item_accept, name="desk_accept"),
    path("desk/<int:item_id>/dismiss/", views.desk_item_dismiss, name="desk_dismiss"),
    path("desk/<int:item_id>/stand-down/", views.desk_item_stand_down, name="desk_stand_down"),
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/new/", views.incident_create, name="incident_create"),
    path("incidents/<int:incident_id>/", views.incident_detail, name="incident"),
    path("incidents/<int:incident_id>/report/", views.incident_report, name="incident_report"),
    path("incidents/<int:incident_id>/close/", views.incident_close, name="incident_close"),
    path("incidents/<int:incident_id>/activate/", views.activate, name="activate"),
    path("incidents/<int:incident_id>/dispatch/", views.dispatch_create, name="dispatch"),
    path("incidents/<int:incident_id>/shelters/", views.shelters_allocate, name="shelters"),
    path("incidents/<int:incident_id>/sitrep.docx", views.situation_report, name="sitrep"),
    path("incidents/<int:incident_id>/after-action/", views.after_action, name="after_action"),
    path(
        "incidents/<int:incident_id>/after-action.docx",
        views.after_action_docx,
        name="after_action_docx",
    ),
    path("activations/<int:activation_id>/level/", views.activation_level, name="activation_level"),
    path(
        "activations/<int:activation_id>/stand-down/",
        views.activation_stand_down,
        name="stand_down",
    ),
    path("cards/mine/", views.my_cards, name="my_cards"),
    path("cards/<int:card_id>/<str:action>/", views.card_action, name="card_action"),
    path("dispatches/<int:order_id>/advance/", views.dispatch_advance, name="dispatch_advance"),
    path("plans/", views.plan_list, name="plans"),
    path("plans/import/", views.plan_import, name="plan_import"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("resources/", views.resources, name="resources"),
    path("resources/import/", views.resources_import, name="resources_import"),
    path("drills/", views.drill_list, name="drills"),
    path("drills/new/", views.drill_create, name="drill_create"),
    path("drills/<int:drill_id>/", views.drill_detail, name="drill"),
    path("drills/<int:drill_id>/report.docx", views.drill_report_docx, name="drill_report"),
    path("drills/<int:drill_id>/run/", views.drill_run, name="drill_run"),
    path("drills/<int:drill_id>/finish/", views.drill_finish, name="drill_finish"),
]
