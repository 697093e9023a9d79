"""What happened after the answer: the follow-up of a referral (excision or visit, and the
histopathology result, PAD), and the reminders sent while it is missing."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telederm.referrals.models import Referral
from telederm.review.models import Diagnosis


class Outcome(models.TextChoices):
    EXCISED = "excised", _("Excised")
    SEEN = "seen", _("Seen at a visit, not excised")
    NOT_DONE = "not_done", _("Not done (declined, did not come, other)")


class Place(models.TextChoices):
    CLINIC = "clinic", _("At the primary care clinic")
    DERMATOLOGY = "dermatology", _("At the dermatology clinic")
    OTHER = "other", _("Elsewhere")


class Invasion(models.TextChoices):
    IN_SITU = "in_situ", _("In situ")
    INVASIVE = "invasive", _("Invasive")


class FollowUp(models.Model):
    """One per referral: registered by the clinic or the review unit, changed with an audit trail.

    ``version`` rises with every change, so that two people editing at once cannot overwrite
    each other unnoticed. The PAD fields are filled only for an excision; ``breslow_mm`` only
    for an invasive melanoma (the database refuses anything else).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="follow_up")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    done_on = models.DateField(null=True, blank=True)
    place = models.CharField(max_length=12, choices=Place.choices, blank=True)
    pad_diagnosis = models.CharField(max_length=32, choices=Diagnosis.choices, blank=True)
    pad_invasion = models.CharField(max_length=10, choices=Invasion.choices, blank=True)
    breslow_mm = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    pad_reference = models.CharField(max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(breslow_mm__isnull=True)
                | models.Q(pad_diagnosis=Diagnosis.INVASIVE_MELANOMA, breslow_mm__gt=0),
                name="follow_up_breslow_only_invasive_melanoma",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="excised")
                | models.Q(pad_diagnosis="", pad_invasion="", pad_reference=""),
                name="follow_up_pad_only_after_excision",
            ),
        ]

    def __str__(self) -> str:
        return f"follow-up of {self.referral_id}"

    @property
    def has_pad(self) -> bool:
        return bool(self.pad_diagnosis)


class FollowUpReminder(models.Model):
    """A reminder already sent for a referral without follow-up: never sent twice."""

    referral = models.OneToOneField(
        Referral, on_delete=models.CASCADE, related_name="follow_up_reminder"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"follow-up reminder {self.referral_id}"
