from django.urls import path

from telederm.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("<uuid:referral_id>/<str:channel>/", views.thread_view, name="thread"),
    path("<uuid:referral_id>/consult/invite/", views.invite_view, name="invite"),
]
