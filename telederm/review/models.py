"""The dermatologist's answer: a structured assessment with a recommended action."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telederm.referrals.models import Referral


class Diagnosis(models.TextChoices):
    BENIGN_NAEVUS = "benign_naevus", _("Benign naevus")
    ATYPICAL_NAEVUS = "atypical_naevus", _("Dysplastic / atypical naevus")
    SEBORRHOEIC_KERATOSIS = "seborrhoeic_keratosis", _("Seborrhoeic keratosis")
    DERMATOFIBROMA = "dermatofibroma", _("Dermatofibroma")
    HAEMANGIOMA = "haemangioma", _("Haemangioma")
    SOLAR_LENTIGO = "solar_lentigo", _("Solar lentigo")
    MELANOMA_IN_SITU = "melanoma_in_situ", _("Melanoma in situ")
    INVASIVE_MELANOMA = "invasive_melanoma", _("Invasive melanoma")
    BASAL_CELL_CARCINOMA = "bcc", _("Basal cell carcinoma")
    SQUAMOUS_CELL_CARCINOMA = "scc", _("Squamous cell carcinoma")
    ACTINIC_KERATOSIS = "actinic_keratosis", _("Actinic keratosis")
    OTHER = "other", _("Other")


# ICD-10 (WHO; the Swedish ICD-10-SE uses the same categories) per diagnosis.
ICD10 = {
    Diagnosis.BENIGN_NAEVUS: "D22.9",
    Diagnosis.ATYPICAL_NAEVUS: "D22.9",
    Diagnosis.SEBORRHOEIC_KERATOSIS: "L82",
    Diagnosis.DERMATOFIBROMA: "D23.9",
    Diagnosis.HAEMANGIOMA: "D18.0",
    Diagnosis.SOLAR_LENTIGO: "L81.4",
    Diagnosis.MELANOMA_IN_SITU: "D03.9",
    Diagnosis.INVASIVE_MELANOMA: "C43.9",
    Diagnosis.BASAL_CELL_CARCINOMA: "C44.9",
    Diagnosis.SQUAMOUS_CELL_CARCINOMA: "C44.9",
    Diagnosis.ACTINIC_KERATOSIS: "L57.0",
    Diagnosis.OTHER: "",
}
MALIGNANT = {
    Diagnosis.MELANOMA_IN_SITU,
    Diagnosis.INVASIVE_MELANOMA,
    Diagnosis.BASAL_CELL_CARCINOMA,
    Diagnosis.SQUAMOUS_CELL_CARCINOMA,
}


class Certainty(models.TextChoices):
    CERTAIN = "certain", _("Certain")
    PROBABLE = "probable", _("Probable")
    UNCERTAIN = "uncertain", _("Uncertain")


class Action(models.TextChoices):
    NONE = "none", _("No action")
    FOLLOW_UP = "follow_up", _("New photos / check-up in N months")
    EXCISION = "excision", _("Excision at the clinic")
    REFER = "refer", _("Referral to the dermatology clinic")
    SVF = "svf", _("Fast track (SVF) for suspected melanoma")


class Answer(models.Model):
    """The answer to one referral. Sent once; never edited in place afterwards."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="answer")
    diagnosis = models.CharField(max_length=32, choices=Diagnosis.choices)
    icd10 = models.CharField(max_length=8, blank=True)
    certainty = models.CharField(max_length=10, choices=Certainty.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    follow_up_months = models.PositiveSmallIntegerField(null=True, blank=True)
    text_to_gp = models.TextField()
    teaching_comment = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # None while the answer waits for a second reader's agreement.
    sent_at = models.DateTimeField(null=True, blank=True)
    second_reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_read_at = models.DateTimeField(null=True, blank=True)
    second_reading_comment = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["read_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action="follow_up") | models.Q(follow_up_months__gte=1),
                name="answer_follow_up_has_months",
            )
        ]

    def __str__(self) -> str:
        return f"{self.referral} – {self.get_diagnosis_display()}"

    @property
    def is_svf(self) -> bool:
        return self.action == Action.SVF


class DeadlineFlag(models.Model):
    """A deadline warning already sent for a case, so that the periodic task never repeats it."""

    class Kind(models.TextChoices):
        APPROACHING = "approaching", _("Deadline approaching")
        OVERDUE = "overdue", _("Deadline passed")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="deadline_flags")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referral", "kind"], name="deadline_flag_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.referral_id}"


class Amendment(models.Model):
    """An addendum to a sent answer, with its reason. The original answer stays as it was."""

    answer = models.ForeignKey(Answer, on_delete=models.PROTECT, related_name="amendments")
    text = models.TextField()
    reason = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"amendment to {self.answer_id}"


class AnswerDraft(models.Model):
    """The answer form as the dermatologist leaves it, saved as they type (not yet an answer)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referral", "author"], name="answer_draft_unique")
        ]

    def __str__(self) -> str:
        return f"answer draft {self.referral_id}/{self.author_id}"
