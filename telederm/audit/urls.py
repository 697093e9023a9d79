from django.urls import path

from telederm.audit import extract, views

app_name = "audit"
urlpatterns = [
    path("", views.audit_search_view, name="search"),
    path("export.csv", views.audit_export_view, name="export"),
    path("patient/", extract.patient_extract_view, name="patient_extract"),
]
