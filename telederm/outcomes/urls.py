from django.urls import path

from telederm.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("", views.stats_view, name="stats"),
    path("export/<slug:table>.csv", views.export_view, name="export"),
    path("awaiting/", views.awaiting_view, name="awaiting"),
    path("unit/<uuid:unit_id>/", views.unit_view, name="unit"),
    path("<uuid:referral_id>/", views.follow_up_view, name="follow_up"),
]
