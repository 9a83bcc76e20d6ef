"""URLs for bulletins and the Excel task ledger (views_reports.py)."""

urlpatterns: list = []
