"""URLs for bulletins and the Excel task ledger (views_reports.py)."""

from django.urls import path

from yingji.workplan import views_reports as views

urlpatterns = [
    path("<int:plan_id>/bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/<int:bulletin_id>/", views.bulletin_detail, name="bulletin"),
    path("bulletins/<int:bulletin_id>.docx", views.bulletin_docx, name="bulletin_docx"),
    path("<int:plan_id>/ledger.xlsx", views.ledger_export, name="ledger_export"),
    path("<int:plan_id>/ledger/import", views.ledger_import, name="ledger_import"),
]
