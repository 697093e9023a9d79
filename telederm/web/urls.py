from django.urls import path

from telederm.web import views

app_name = "web"
urlpatterns = [
    path("", views.start, name="start"),
    path("about/", views.about, name="about"),
    path("healthz", views.healthz, name="healthz"),
    path("language/", views.set_language, name="set_language"),
]
