"""Organisations, users, memberships, licences, one-time links and the SMS code device."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import SideChannelDevice

from telederm.lib.identifiers import HSA_ID_MAX_LENGTH


class OrganisationKind(models.TextChoices):
    REGION = "region", _("Region")
    CLINIC = "clinic", _("Primary care clinic")
    REVIEW_UNIT = "review_unit", _("Review unit")


class Role(models.TextChoices):
    REGION_ADMIN = "region_admin", _("Region administrator")
    CENTER_ADMIN = "center_admin", _("Center administrator")
    GP = "gp", _("Referring GP")
    DERMATOLOGIST = "dermatologist", _("Dermatologist")
    UNIT_LEAD = "unit_lead", _("Review unit lead")


# Each role belongs to exactly one kind of organisation; the database enforces it too.
ROLE_KIND: dict[str, str] = {
    Role.REGION_ADMIN: OrganisationKind.REGION,
    Role.CENTER_ADMIN: OrganisationKind.CLINIC,
    Role.GP: OrganisationKind.CLINIC,
    Role.DERMATOLOGIST: OrganisationKind.REVIEW_UNIT,
    Role.UNIT_LEAD: OrganisationKind.REVIEW_UNIT,
}
ROLES_FOR_KIND: dict[str, list[str]] = {
    kind: [role for role, role_kind in ROLE_KIND.items() if role_kind == kind]
    for kind in OrganisationKind.values
}


class Organisation(models.Model):
    """A region, a primary care clinic or a review unit.

    Clinics and review units belong to a region. A clinic can send referrals once telederma is
    active (``telederma_active_from`` is today or earlier and the clinic is active).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=OrganisationKind.choices)
    name = models.CharField(_("name"), max_length=200)
    # NULL, not "", for "none": both HSA-ID and kombikakod are unique when present.
    hsa_id = models.CharField(_("HSA-ID"), max_length=HSA_ID_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    region = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        limit_choices_to={"kind": OrganisationKind.REGION},
    )
    kombikakod = models.CharField(_("kombikakod"), max_length=20, null=True, blank=True)  # noqa: DJ001
    ehr_integrated = models.BooleanField(_("EHR-integrated"), default=False)
    telederma_active_from = models.DateField(_("telederma active from"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class SecondReading(models.TextChoices):
        OFF = "off", _("No second reading")
        MALIGNANT = "malignant", _("When malignancy is suspected or found")
        ALL = "all", _("Every answer (e.g. during a validation period)")

    # For review units: which answers need a second dermatologist's agreement before they go.
    second_reading = models.CharField(
        max_length=10, choices=SecondReading.choices, default=SecondReading.OFF
    )
    # Where a clinic's referrals go unless a dermatologist moves them.
    default_review_unit = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routed_clinics",
        limit_choices_to={"kind": OrganisationKind.REVIEW_UNIT},
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["hsa_id"], name="organisation_hsa_id_unique"),
            models.UniqueConstraint(fields=["kombikakod"], name="organisation_kombikakod_unique"),
            models.CheckConstraint(
                condition=models.Q(kind=OrganisationKind.REGION, region__isnull=True)
                | (~models.Q(kind=OrganisationKind.REGION) & models.Q(region__isnull=False)),
                name="organisation_region_parent",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=OrganisationKind.CLINIC)
                | models.Q(kombikakod__isnull=False),
                name="organisation_clinic_has_kombikakod",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_clinic(self) -> bool:
        return self.kind == OrganisationKind.CLINIC

    @property
    def is_review_unit(self) -> bool:
        return self.kind == OrganisationKind.REVIEW_UNIT

    def telederma_active(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return (
            self.is_active
            and self.telederma_active_from is not None
            and self.telederma_active_from <= on
        )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=(username or "").strip())

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A person who uses Telederm: identified by e-mail for login and by HSA-ID in the catalogue.

    A user is active while at least one membership is active. ``session_epoch`` is part of the
    session hash: raising it ends every session of the user at once (deactivation, new phone).
    """

    class Language(models.TextChoices):
        SWEDISH = "sv", _("Swedish")
        ENGLISH = "en", _("English")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("e-mail"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    hsa_id = models.CharField(_("HSA-ID"), max_length=HSA_ID_MAX_LENGTH, unique=True)
    title = models.CharField(_("professional title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile number"), max_length=20, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.SWEDISH)
    is_active = models.BooleanField(default=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    session_epoch = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name", "hsa_id"]

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Include the epoch so that deactivation or a phone change invalidates every session.
        return salted_hmac(
            "telederm.accounts.User.session",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def active_memberships(self) -> models.QuerySet[Membership]:
        return self.memberships.filter(ended_at__isnull=True).select_related("organisation")

    def valid_licence(self, on: date | None = None) -> Licence | None:
        on = on or timezone.localdate()
        return (
            self.licences.filter(revoked_at__isnull=True, passed_on__lte=on)
            .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=on))
            .order_by("-passed_on")
            .first()
        )


class Membership(models.Model):
    """A user's role in one organisation. Ending it is a state (``ended_at``), never a delete."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    # A copy of the organisation's kind (which never changes) so that the database itself can
    # refuse a role that does not fit the organisation.
    organisation_kind = models.CharField(max_length=16, choices=OrganisationKind.choices)
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"],
                condition=models.Q(ended_at__isnull=True),
                name="membership_active_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    role=Role.REGION_ADMIN, organisation_kind=OrganisationKind.REGION
                )
                | models.Q(
                    role__in=[Role.CENTER_ADMIN, Role.GP],
                    organisation_kind=OrganisationKind.CLINIC,
                )
                | models.Q(
                    role__in=[Role.DERMATOLOGIST, Role.UNIT_LEAD],
                    organisation_kind=OrganisationKind.REVIEW_UNIT,
                ),
                name="membership_role_fits_kind",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "role"])]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.organisation}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class Licence(models.Model):
    """Proof that a user passed the teledermoscopy course (the "körkort")."""

    class Source(models.TextChoices):
        EXTERNAL = "external", _("Regional course (certificate)")
        INTERNAL = "internal", _("Internal exam")

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="licences")
    passed_on = models.DateField(_("date passed"))
    issuer = models.CharField(_("issuer"), max_length=200)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.EXTERNAL)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    registered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-passed_on"]

    def __str__(self) -> str:
        return f"{self.user} {self.passed_on:%Y-%m-%d}"


class OneTimeLink(models.Model):
    """An activation or password-reset link: random, single use, short-lived.

    Only a SHA-256 digest of the token is stored, so a copy of the database cannot be used to
    activate accounts. A new link of the same purpose supersedes the older unused ones.
    """

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", _("Activation")
        PASSWORD_RESET = "password_reset", _("Password reset")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="one_time_links")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    salt = models.CharField(max_length=32)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} link for user {self.user_id}"


class SmsDevice(SideChannelDevice):
    """A one-time code sent by SMS to the user's mobile number (django-otp has no SMS device).

    ``wrong_tries`` counts failed attempts at the current code; after the limit the code is
    burnt and a new one must be sent.
    """

    number: models.CharField[str, str] = models.CharField(max_length=20)
    wrong_tries: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        default=0
    )

    class Meta(SideChannelDevice.Meta):
        verbose_name = "SMS device"


class SmsCodeSend(models.Model):
    """One code sent, kept to enforce the per-user send limit over a sliding window."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"code to user {self.user_id} at {self.sent_at:%H:%M:%S}"


class ClinicApplication(models.Model):
    """A clinic's application to be connected to telederma.

    Status: ``pending`` → ``approved`` (the clinic is created and activated, its center
    administrator gets an activation link) or ``rejected`` (with a reason sent to the head of
    clinic). A decided application is never changed again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="applications")
    clinic_name = models.CharField(_("clinic name"), max_length=200)
    kombikakod = models.CharField(_("kombikakod"), max_length=20)
    clinic_hsa_id = models.CharField(_("clinic HSA-ID"), max_length=HSA_ID_MAX_LENGTH)
    ehr_integrated = models.BooleanField(_("EHR-integrated"), default=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    head_name = models.CharField(_("head of clinic, name"), max_length=200)
    head_email = models.EmailField(_("head of clinic, e-mail"))
    head_hsa_id = models.CharField(_("head of clinic, HSA-ID"), max_length=HSA_ID_MAX_LENGTH)
    admin_first_name = models.CharField(_("first name"), max_length=100)
    admin_last_name = models.CharField(_("last name"), max_length=100)
    admin_email = models.EmailField(_("e-mail"))
    admin_hsa_id = models.CharField(_("HSA-ID"), max_length=HSA_ID_MAX_LENGTH)
    admin_mobile = models.CharField(_("mobile number"), max_length=20)
    admin_title = models.CharField(_("professional title"), max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decision_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clinic = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="application"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kombikakod"],
                condition=models.Q(status="pending"),
                name="application_one_pending_per_kombikakod",
            )
        ]

    def __str__(self) -> str:
        return f"{self.clinic_name} ({self.kombikakod})"
