from django.urls import path

from telederm.audit import views

app_name = "audit"
urlpatterns = [path("", views.audit_search_view, name="search")]
