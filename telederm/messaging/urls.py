from django.urls import path

from telederm.messaging import views

app_name = "messaging"
urlpatterns = [
    path("<uuid:referral_id>/<str:channel>/", views.thread_view, name="thread"),
    path("<uuid:referral_id>/consult/invite/", views.invite_view, name="invite"),
]
