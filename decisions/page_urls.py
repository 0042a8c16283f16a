from django.urls import path

from decisions import views

urlpatterns = [
    path("", views.decision_list_page, name="decision-list"),
    path("export.csv", views.decision_export, {"fmt": "csv"}, name="decision-export-csv"),
    path("export.jsonl", views.decision_export, {"fmt": "jsonl"}, name="decision-export-jsonl"),
    path("<str:decision_id>/", views.decision_detail_page, name="decision-detail"),
]
