from django.urls import path

from yingji.risk import views

app_name = "risk"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("enterprises/", views.enterprise_list, name="enterprises"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise"),
    path("points/", views.point_list, name="points"),
    path("points/<int:pk>/", views.point_detail, name="point"),
    path("points/<int:pk>/assess/", views.point_assess, name="point_assess"),
    path("hazards/", views.hazard_list, name="hazards"),
    path("hazards/new/", views.hazard_new, name="hazard_new"),
    path("hazards/<int:pk>/", views.hazard_detail, name="hazard"),
    path("hazards/<int:pk>/do/<str:action>/", views.hazard_transition, name="hazard_transition"),
    path("hazards/<int:pk>/plan/", views.hazard_plan, name="hazard_plan"),
    path("hazards/<int:pk>/list/", views.hazard_list_for_supervision, name="hazard_listing"),
    path("hazards/<int:pk>/evidence/", views.hazard_evidence, name="hazard_evidence"),
    path("rechecks/<int:pk>/", views.recheck_record, name="recheck"),
    path("accidents/", views.accident_list, name="accidents"),
    path("accidents/new/", views.accident_new, name="accident_new"),
    path("reports/quarterly/", views.quarterly, name="quarterly"),
    path("reports/consultation/", views.consultation, name="consultation"),
    path("ledgers/", views.ledgers, name="ledgers"),
    path("ledgers/imports/<int:pk>/", views.ledger_import, name="ledger_import"),
    path("ledgers/<str:kind>/export/", views.ledger_export, name="ledger_export"),
    path("ledgers/<str:kind>/template/", views.ledger_template, name="ledger_template"),
]
