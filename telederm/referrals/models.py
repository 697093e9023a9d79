"""Patients, lesions and referrals: the root object of Telederm and its lifecycle."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telederm.accounts.models import Organisation
from telederm.referrals.bodysites import Laterality


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class Patient(models.Model):
    """A person identified by personnummer or samordningsnummer (12 digits).

    With protected identity (skyddad identitet) no name is stored or shown: only the number.
    A patient row holds no clinical data of its own; access goes through referrals.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    personal_number = models.CharField(max_length=12, unique=True)
    coordination_number = models.BooleanField(default=False)
    birth_date = models.DateField()
    sex = models.CharField(max_length=6, choices=Sex.choices)
    name = models.CharField(max_length=200, blank=True)
    protected_identity = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.personal_number[:8]}-{self.personal_number[8:]}"

    def age(self, on: date | None = None) -> int:
        on = on or timezone.localdate()
        born = self.birth_date
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class Lesion(models.Model):
    """A skin lesion of one patient, followed across referrals (so earlier images can be shown)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lesions")
    body_site = models.CharField(max_length=40)
    laterality = models.CharField(max_length=1, choices=Laterality.choices, default="U")
    label = models.CharField(max_length=100, blank=True)
    first_clinic = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.label or self.body_site


class ReferralStatus(models.TextChoices):
    """Lifecycle: ``draft`` → ``sent`` (in the review unit's queue) → ``in_review`` (a
    dermatologist took it; released back to ``sent``) → ``answered``. From ``in_review`` the
    dermatologist can ask the clinic for more (``complement``); the clinic's reply returns the
    case to ``in_review`` with the same dermatologist. Where the review unit asks for it, a sent
    answer first waits in ``second_reading`` until another dermatologist agrees (→ ``answered``)
    or proposes changes (→ back to ``in_review``). ``draft`` or ``sent`` →
    ``withdrawn`` by a GP of the clinic, before a dermatologist has taken it."""

    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    IN_REVIEW = "in_review", _("Under assessment")
    COMPLEMENT_REQUESTED = "complement", _("Complement requested")
    SECOND_READING = "second_reading", _("Waiting for second reading")
    ANSWERED = "answered", _("Answered")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# States in which the referral has left the GP's hands.
SUBMITTED_STATES = (
    ReferralStatus.SENT,
    ReferralStatus.IN_REVIEW,
    ReferralStatus.COMPLEMENT_REQUESTED,
    ReferralStatus.SECOND_READING,
    ReferralStatus.ANSWERED,
)


class Duration(models.TextChoices):
    UNDER_1M = "lt1m", _("Less than a month")
    M1_6 = "1-6m", _("1–6 months")
    M6_12 = "6-12m", _("6–12 months")
    Y1_5 = "1-5y", _("1–5 years")
    OVER_5Y = "gt5y", _("More than 5 years")
    UNKNOWN = "unknown", _("Unknown")


class YesNoUnknown(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class SkinType(models.TextChoices):
    I = "I", _("I – always burns, never tans")  # noqa: E741
    II = "II", _("II – usually burns, tans minimally")
    III = "III", _("III – sometimes burns, tans gradually")
    IV = "IV", _("IV – rarely burns, tans well")
    V = "V", _("V – very rarely burns, brown skin")
    VI = "VI", _("VI – never burns, dark brown to black skin")


class NaeviCount(models.TextChoices):
    FEW = "few", _("Few (under 50)")
    MANY = "many", _("Many (50 or more)")
    UNKNOWN = "unknown", _("Not assessed")


class Suspicion(models.TextChoices):
    BENIGN = "benign", _("Benign")
    UNCERTAIN = "uncertain", _("Uncertain")
    MELANOMA = "melanoma", _("Suspected melanoma")
    OTHER_MALIGNANCY = "other_malignancy", _("Other malignancy")


class Referral(models.Model):
    """A GP's request for a dermatologist's assessment of one or more lesions.

    It belongs to the clinic. Drafts are visible to their author only; a sent referral to every
    GP of the clinic (and, with the review app, to the review unit). ``number`` (e.g.
    ``TD26-000123``) is given when it is sent; it is also the DICOM accession number.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=16, unique=True, null=True, blank=True)
    clinic = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="referrals")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    status = models.CharField(
        max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    # History
    duration = models.CharField(max_length=8, choices=Duration.choices, blank=True)
    changed_size = models.BooleanField(default=False)
    changed_shape = models.BooleanField(default=False)
    changed_colour = models.BooleanField(default=False)
    itch = models.BooleanField(default=False)
    bleeding = models.BooleanField(default=False)
    ulceration = models.BooleanField(default=False)
    previous_melanoma = models.CharField(max_length=8, choices=YesNoUnknown.choices, blank=True)
    family_melanoma = models.CharField(max_length=8, choices=YesNoUnknown.choices, blank=True)
    skin_type = models.CharField(max_length=3, choices=SkinType.choices, blank=True)
    naevi_count = models.CharField(max_length=8, choices=NaeviCount.choices, blank=True)
    question = models.TextField(blank=True)
    suspicion = models.CharField(max_length=20, choices=Suspicion.choices, blank=True)
    free_text = models.TextField(blank=True)
    # Lifecycle
    sent_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.TextField(blank=True)
    # Review
    review_unit = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_referrals",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_referrals",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The key of the "New referral" form that started this draft: a double submit of that form
    # opens the same draft instead of a second one (services.start_referral).
    client_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clinic", "status", "-created_at"]),
            # The GP's answered list walks this from the newest (referrals.views.pages).
            models.Index(fields=["clinic", "status", "-answered_at"]),
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["author", "status"]),
            models.Index(fields=["review_unit", "status", "deadline"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_key"],
                condition=models.Q(client_key__isnull=False),
                name="referral_started_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(
                    status__in=["sent", "in_review", "complement", "second_reading", "answered"]
                )
                | (
                    models.Q(number__isnull=False)
                    & models.Q(sent_at__isnull=False)
                    & models.Q(deadline__isnull=False)
                    & models.Q(patient__isnull=False)
                ),
                name="referral_sent_is_complete",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["in_review", "complement", "second_reading"])
                | models.Q(assigned_to__isnull=False),
                name="referral_in_review_is_assigned",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.public_id}"

    def days_left(self, on: date | None = None) -> int | None:
        if self.deadline is None:
            return None
        return (self.deadline - (on or timezone.localdate())).days


class ReferralLesion(models.Model):
    """One lesion as part of one referral; the images belong here."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="lesion_links")
    lesion = models.ForeignKey(Lesion, on_delete=models.PROTECT, related_name="referral_links")
    position = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "lesion"], name="referral_lesion_unique")
        ]

    def __str__(self) -> str:
        return f"{self.referral} #{self.position}"


class ComplementRequest(models.Model):
    """The dermatologist's question back to the clinic (komplettering), and the clinic's reply."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="complements")
    question = models.TextField()
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(auto_now_add=True)
    reply = models.TextField(blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]

    def __str__(self) -> str:
        return f"complement on {self.referral_id}"


class ReferralConsultant(models.Model):
    """A dermatologist invited to consult on a case (may belong to another review unit)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="consultants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referral", "user"], name="referral_consultant_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.referral_id}"


class ReferralEvent(models.Model):
    """A milestone of a referral that outside systems must hear about (archive, EHR).

    Written by the core services in the same transaction as the change itself, so that the
    integrations (which the core never imports) can deliver it later without losing any.
    """

    class Kind(models.TextChoices):
        SENT = "sent", _("Referral sent")
        ANSWERED = "answered", _("Answer sent")
        AMENDED = "amended", _("Answer amended")
        IMAGES_ADDED = "images_added", _("Photos added")

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.referral_id}"


class ReferralCounter(models.Model):
    """The last number given per year, locked while the next one is taken."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
