from django.urls import path

from telederm.training.views import equipment, exam, questions

app_name = "training"

CLINIC = "clinic/<uuid:org_id>/equipment/"
ITEM = CLINIC + "<uuid:equipment_id>/"

urlpatterns = [
    # The licence exam (GPs).
    path("exam/", exam.exam_view, name="exam"),
    path("exam/start/", exam.start_view, name="exam_start"),
    path("exam/<uuid:attempt_id>/", exam.attempt_view, name="attempt"),
    path("exam/<uuid:attempt_id>/submit/", exam.submit_view, name="attempt_submit"),
    path(
        "exam/<uuid:attempt_id>/image/<str:token>/", exam.attempt_image_view, name="attempt_image"
    ),
    # The question bank (region administrators).
    path("questions/", questions.list_view, name="questions"),
    path("questions/new/", questions.new_view, name="question_new"),
    path("questions/<uuid:question_id>/", questions.edit_view, name="question_edit"),
    path("questions/<uuid:question_id>/retire/", questions.retire_view, name="question_retire"),
    path("questions/<uuid:question_id>/image/", questions.image_view, name="question_image"),
    # The clinic's equipment and its test (center administrators, region administrators).
    path(CLINIC, equipment.list_view, name="equipment"),
    path(CLINIC + "new/", equipment.new_view, name="equipment_new"),
    path(ITEM, equipment.edit_view, name="equipment_edit"),
    path(ITEM + "test/", equipment.test_view, name="equipment_test"),
    path(ITEM + "test/upload/", equipment.upload_view, name="equipment_test_upload"),
    path(ITEM + "tests/<uuid:test_id>/photo/", equipment.photo_view, name="equipment_test_photo"),
]
