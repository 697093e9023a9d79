"""The licence exam (question bank, attempts) and the clinic's equipment register and tests.

Nothing here is patient data: exam images are CC0 teaching images or images a region
administrator uploads for teaching, and equipment test photos show skin or a test card without
any link to a patient.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telederm.accounts.models import Licence, Organisation, OrganisationKind


class Topic(models.TextChoices):
    CLINICAL = "clinical", _("Clinical assessment")
    DERMOSCOPY = "dermoscopy", _("Dermoscopy")
    EXCISION = "excision", _("Excision")
    PATIENT = "patient", _("Patient handling")
    SYSTEM = "system", _("Using the system")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice (one correct answer)")
    MULTIPLE = "multiple", _("Multiple choice (one or more correct answers)")


def _question_image_path(instance: Question, filename: str) -> str:
    return f"training/questions/{instance.public_id.hex}-{uuid.uuid4().hex[:8]}.jpg"


class Question(models.Model):
    """One question of a region's bank. Retiring is a state: old attempts keep their copy."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="exam_questions",
        limit_choices_to={"kind": OrganisationKind.REGION},
    )
    topic = models.CharField(_("topic"), max_length=12, choices=Topic.choices)
    kind = models.CharField(
        _("kind of question"),
        max_length=8,
        choices=QuestionKind.choices,
        default=QuestionKind.SINGLE,
    )
    text = models.TextField(_("question"))
    # The cleaned screen copy made by images.processing.ingest (metadata stripped, upright).
    image = models.FileField(upload_to=_question_image_path, max_length=200, blank=True)
    image_alt = models.CharField(_("image description"), max_length=300, blank=True)
    explanation = models.TextField(_("explanation"))
    is_active = models.BooleanField(default=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # A stable key for questions loaded by seed_exam_questions, so the seed runs only once.
    seed_key = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["topic", "created_at", "pk"]
        indexes = [models.Index(fields=["region", "is_active", "topic"])]

    def __str__(self) -> str:
        return self.text[:60]


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    text = models.CharField(_("answer option"), max_length=500)
    is_correct = models.BooleanField(_("correct"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["question", "position", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class AttemptStatus(models.TextChoices):
    """``open`` → ``submitted`` (answers arrived in time, scored) or ``expired`` (the time limit
    passed without answers in time: scored as failed). A closed attempt never changes."""

    OPEN = "open", _("In progress")
    SUBMITTED = "submitted", _("Submitted")
    EXPIRED = "expired", _("Time ran out")


class ExamAttempt(models.Model):
    """One sitting of the exam by one user, with a copy of every question as it was asked."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exam_attempts"
    )
    region = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=AttemptStatus.choices, default=AttemptStatus.OPEN
    )
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)  # None: no time limit
    ended_at = models.DateTimeField(null=True, blank=True)
    question_count = models.PositiveSmallIntegerField()
    correct_count = models.PositiveSmallIntegerField(null=True, blank=True)
    pass_percent = models.PositiveSmallIntegerField()
    passed = models.BooleanField(null=True, blank=True)
    licence = models.OneToOneField(
        Licence, on_delete=models.PROTECT, null=True, blank=True, related_name="exam_attempt"
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # One open attempt per user: starting twice resumes, it never draws new questions.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="open"), name="exam_one_open_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"exam {self.public_id} ({self.status})"

    @property
    def score_percent(self) -> float | None:
        if self.correct_count is None or not self.question_count:
            return None
        return 100 * self.correct_count / self.question_count


class AttemptItem(models.Model):
    """A question as it was put in one attempt.

    ``token`` and the option tokens are random per attempt, so the page names no question or
    option id that could be compared across attempts. ``options`` is a list of
    ``{"token", "text", "correct"}`` in the order shown; correctness never leaves the server
    before the attempt is closed. ``chosen`` holds the tokens the user chose (as received, after
    dropping foreign and repeated ones).
    """

    attempt = models.ForeignKey(ExamAttempt, on_delete=models.CASCADE, related_name="items")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    token = models.CharField(max_length=16)
    topic = models.CharField(max_length=12, choices=Topic.choices)
    kind = models.CharField(max_length=8, choices=QuestionKind.choices)
    text = models.TextField()
    image = models.CharField(max_length=200, blank=True)  # storage name of the question's image
    image_alt = models.CharField(max_length=300, blank=True)
    explanation = models.TextField()
    options = models.JSONField(default=list)
    chosen = models.JSONField(default=list)
    is_correct = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "token"], name="attempt_item_token_unique")
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.position}"


class Equipment(models.Model):
    """A phone and dermatoscope pair that a clinic uses for teledermoscopy."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="equipment",
        limit_choices_to={"kind": OrganisationKind.CLINIC},
    )
    phone_model = models.CharField(_("phone model"), max_length=120)
    dermatoscope_model = models.CharField(_("dermatoscope model"), max_length=120)
    serial_number = models.CharField(_("serial or inventory number"), max_length=80, blank=True)
    received_on = models.DateField(_("date received"), null=True, blank=True)
    in_use = models.BooleanField(_("in use"), default=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-in_use", "phone_model", "pk"]
        verbose_name_plural = "equipment"

    def __str__(self) -> str:
        return f"{self.phone_model} + {self.dermatoscope_model}"


def _test_thumbnail_path(instance: EquipmentTest, filename: str) -> str:
    return f"training/equipment/{instance.public_id.hex}-thumb.jpg"


class EquipmentTest(models.Model):
    """One test photo through the equipment, measured against the quality thresholds.

    ``metrics`` are the photo's measurements, ``checks`` the verdict per check
    (resolution, focus, exposure) with the limits in force at the time. Only a thumbnail of the
    photo is kept: enough to see what was photographed, and no original to look after.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="tests")
    upload_id = models.UUIDField()
    passed = models.BooleanField()
    metrics = models.JSONField(default=dict)
    checks = models.JSONField(default=list)
    device_model = models.CharField(max_length=120, blank=True)
    thumbnail = models.FileField(upload_to=_test_thumbnail_path, max_length=200, blank=True)
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tested_at = models.DateTimeField()

    class Meta:
        ordering = ["-tested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["equipment", "upload_id"], name="equipment_test_upload_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.equipment} {self.tested_at:%Y-%m-%d} {'pass' if self.passed else 'fail'}"
