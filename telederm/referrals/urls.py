from django.urls import path

from telederm.images import views as image_views
from telederm.referrals.views import pages, wizard

app_name = "referrals"

urlpatterns = [
    path("", pages.index_view, name="index"),
    path("new/", wizard.start_view, name="start"),
    path("<uuid:referral_id>/", pages.detail_view, name="detail"),
    path("<uuid:referral_id>/withdraw/", pages.withdraw_view, name="withdraw"),
    path(
        "<uuid:referral_id>/complement/<int:link_id>/photos/",
        pages.complement_photos_view,
        name="complement_photos",
    ),
    path("<uuid:referral_id>/patient/", wizard.patient_view, name="patient"),
    path("<uuid:referral_id>/patient/check/", wizard.patient_check_view, name="patient_check"),
    path("<uuid:referral_id>/lesions/", wizard.lesions_view, name="lesions"),
    path(
        "<uuid:referral_id>/lesions/existing/", wizard.lesion_existing_view, name="lesion_existing"
    ),
    path(
        "<uuid:referral_id>/lesions/<int:link_id>/remove/",
        wizard.lesion_remove_view,
        name="lesion_remove",
    ),
    path("<uuid:referral_id>/lesions/<int:link_id>/photos/", wizard.photos_view, name="photos"),
    path(
        "<uuid:referral_id>/lesions/<int:link_id>/upload/", image_views.upload_view, name="upload"
    ),
    path(
        "<uuid:referral_id>/lesions/<int:link_id>/upload/chunk/",
        image_views.upload_chunk_view,
        name="upload_chunk",
    ),
    path("<uuid:referral_id>/history/", wizard.history_view, name="history"),
    path("<uuid:referral_id>/review/", wizard.review_view, name="review"),
    path("<uuid:referral_id>/send/", wizard.send_view, name="send"),
    path(
        "<uuid:referral_id>/images/<uuid:image_id>/accept/",
        image_views.accept_view,
        name="image_accept",
    ),
    path(
        "<uuid:referral_id>/images/<uuid:image_id>/remove/",
        image_views.remove_view,
        name="image_remove",
    ),
    path(
        "<uuid:referral_id>/images/<uuid:image_id>/<str:variant>/",
        image_views.file_view,
        name="image_file",
    ),
]
