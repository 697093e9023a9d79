from django.urls import path

from telederm.integrations import views

app_name = "integrations"
urlpatterns = [
    path("", views.exports_view, name="exports"),
    path("<int:job_id>/retry/", views.retry_view, name="retry"),
    path("retry-all/", views.retry_all_view, name="retry_all"),
]
