from django.urls import path

from telederm.review import casework_views, views

app_name = "review"
urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("next/", views.take_next_view, name="take_next"),
    path("<uuid:referral_id>/", views.case_view, name="case"),
    path("<uuid:referral_id>/take/", views.take_view, name="take"),
    path("<uuid:referral_id>/release/", views.release_view, name="release"),
    path("<uuid:referral_id>/answer/", views.answer_view, name="answer"),
    path("<uuid:referral_id>/answer/draft/", views.answer_draft_view, name="answer_draft"),
    path("<uuid:referral_id>/read/", views.answer_read_view, name="answer_read"),
    path("<uuid:referral_id>/complement/", casework_views.complement_view, name="complement"),
    path(
        "<uuid:referral_id>/complement/reply/",
        casework_views.complement_reply_view,
        name="complement_reply",
    ),
    path("<uuid:referral_id>/hand-over/", casework_views.hand_over_view, name="hand_over"),
    path("<uuid:referral_id>/move/", casework_views.move_view, name="move"),
    path("<uuid:referral_id>/amend/", casework_views.amend_view, name="amend"),
    path("<uuid:referral_id>/second-reading/", views.second_read_view, name="second_read"),
]
