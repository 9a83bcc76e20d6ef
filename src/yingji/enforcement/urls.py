from django.urls import path

from yingji.enforcement import views, views_lookback

app_name = "enforcement"
urlpatterns = [
    path("", views.plan_list, name="plans"),
    path("registers/", views.registers, name="registers"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("plans/<int:plan_id>/<str:action>/", views.plan_action, name="plan_action"),
    path("draws/<int:draw_id>/", views.draw_detail, name="draw"),
    path("draws/<int:draw_id>/verify/", views.draw_verify, name="draw_verify"),
    path("draws/<int:draw_id>/inputs.json", views.draw_inputs, name="draw_inputs"),
    path("inspections/<int:inspection_id>/", views.inspection_detail, name="inspection"),
    path(
        "inspections/<int:inspection_id>/record/", views.inspection_record, name="inspection_record"
    ),
    path(
        "inspections/<int:inspection_id>/publish/",
        views.inspection_publish,
        name="inspection_publish",
    ),
    path("cases/", views.case_list, name="cases"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/transition/", views.case_transition, name="case_transition"),
    path("dishonesty/", views.dishonesty, name="dishonesty"),
    path("dishonesty/<int:listing_id>/remove/", views.dishonesty_remove, name="dishonesty_remove"),
    path("statistics/", views.statistics, name="statistics"),
    path("public/", views.public, name="public"),
    path("public/draws/<int:draw_id>/check/", views.public_draw_check, name="public_draw_check"),
    path("public/verifier.py", views.public_verifier, name="public_verifier"),
    path("lookbacks/", views_lookback.lookback_list, name="lookbacks"),
    path("lookbacks/typical/", views_lookback.lookback_mark_typical, name="lookback_typical"),
    path("lookbacks/summary/", views_lookback.lookback_summary, name="lookback_summary"),
    path("lookbacks/<int:case_id>/", views_lookback.lookback_detail, name="lookback"),
    path("lookbacks/<int:case_id>/report/", views_lookback.lookback_report, name="lookback_report"),
    path("lookbacks/<int:case_id>/items/", views_lookback.lookback_add_item, name="lookback_items"),
    path(
        "lookbacks/<int:case_id>/transition/",
        views_lookback.lookback_transition,
        name="lookback_transition",
    ),
    path(
        "lookbacks/<int:case_id>/hazards/", views_lookback.lookback_hazards, name="lookback_hazards"
    ),
    path(
        "lookbacks/items/<int:item_id>/progress/",
        views_lookback.lookback_progress,
        name="lookback_progress",
    ),
]
