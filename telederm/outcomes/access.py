"""Who sees which follow-up and which statistics.

Follow-up: the referral's access rules (``referrals.access.follow_up_referrals``) plus this app's
rule that only answers recommending excision, the dermatology clinic or SVF call for one.

Statistics are seen through a *perspective*, one organisation the user belongs to:

- a region (region administrators): every figure of the region, per clinic, unit and reviewer,
  without suppression;
- a clinic (its GPs and center administrator): the clinic's own figures, and the region's
  totals beside them with small counts suppressed;
- a review unit (its dermatologists): the unit's figures, per-clinic tables with small counts
  suppressed; per-reviewer rows only for oneself (the unit lead sees every reviewer of the unit).

A perspective the user does not hold is 404, as anything else they may not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from telederm.accounts.access import active_memberships
from telederm.accounts.models import Organisation, OrganisationKind, Role, User
from telederm.referrals import access as referral_access
from telederm.referrals.models import Referral
from telederm.review.models import Action

# Answers after which the clinic or the unit registers what happened.
FOLLOW_UP_ACTIONS = (Action.EXCISION, Action.REFER, Action.SVF)

PERSPECTIVE_ROLES: dict[str, tuple[str, ...]] = {
    OrganisationKind.REGION: (Role.REGION_ADMIN,),
    OrganisationKind.CLINIC: (Role.GP, Role.CENTER_ADMIN),
    OrganisationKind.REVIEW_UNIT: (Role.DERMATOLOGIST, Role.UNIT_LEAD),
}


def follow_up_referrals(user: User) -> QuerySet[Referral]:
    return referral_access.follow_up_referrals(user).filter(
        answer__sent_at__isnull=False, answer__action__in=FOLLOW_UP_ACTIONS
    )


def get_follow_up_referral(user: User, public_id: UUID | str) -> Referral:
    referral = referral_access.get_follow_up_referral(user, public_id)
    answer = getattr(referral, "answer", None)
    if answer is None or answer.sent_at is None or answer.action not in FOLLOW_UP_ACTIONS:
        raise Http404
    return referral


def role_for(user: User, referral: Referral) -> str:
    """The role in which the user registers a follow-up (decides the audit event's unit)."""
    roles = set(
        active_memberships(user)
        .filter(organisation__in=[referral.clinic_id, referral.review_unit_id])
        .values_list("role", flat=True)
    )
    for role in (Role.GP, Role.CENTER_ADMIN, Role.DERMATOLOGIST, Role.UNIT_LEAD):
        if role in roles:
            return role
    raise PermissionDenied


@dataclass(frozen=True)
class Perspective:
    """The organisation whose statistics the user looks at, and what they may see there."""

    organisation: Organisation
    region: Organisation
    own_reviewer_only: User | None = None  # a dermatologist's per-reviewer rows: only their own

    @property
    def kind(self) -> str:
        return self.organisation.kind

    @property
    def is_region(self) -> bool:
        return self.kind == OrganisationKind.REGION

    @property
    def is_clinic(self) -> bool:
        return self.kind == OrganisationKind.CLINIC

    @property
    def is_unit(self) -> bool:
        return self.kind == OrganisationKind.REVIEW_UNIT

    @property
    def suppress_per_clinic(self) -> bool:
        """Per-clinic tables seen from a review unit cross clinics the viewer does not belong to."""
        return self.is_unit

    @property
    def shows_reviewers(self) -> bool:
        return not self.is_clinic


def perspectives(user: User) -> list[Organisation]:
    """Every organisation whose statistics the user may open, regions first."""
    held: dict[int, Organisation] = {}
    for membership in active_memberships(user).select_related("organisation__region"):
        organisation = membership.organisation
        if membership.role in PERSPECTIVE_ROLES.get(organisation.kind, ()):
            held[organisation.pk] = organisation
    order: list[str] = [
        OrganisationKind.REGION,
        OrganisationKind.REVIEW_UNIT,
        OrganisationKind.CLINIC,
    ]
    return sorted(held.values(), key=lambda org: (order.index(org.kind), org.name))


def get_perspective(user: User, public_id: UUID | str | None) -> Perspective:
    """The chosen perspective (or the user's first); 404 if the user does not hold it, 403 if
    the user holds none at all."""
    allowed = perspectives(user)
    if not allowed:
        raise PermissionDenied
    if public_id in (None, ""):
        organisation = allowed[0]
    else:
        found = [org for org in allowed if str(org.public_id) == str(public_id)]
        if not found:
            raise Http404
        organisation = found[0]
    region = organisation if organisation.region is None else organisation.region
    own = None
    if organisation.kind == OrganisationKind.REVIEW_UNIT and not (
        active_memberships(user).filter(organisation=organisation, role=Role.UNIT_LEAD).exists()
    ):
        own = user
    return Perspective(organisation=organisation, region=region, own_reviewer_only=own)


def base_referrals(perspective: Perspective) -> QuerySet[Referral]:
    """The submitted referrals a perspective covers (any state after sending except drafts)."""
    from telederm.referrals.models import SUBMITTED_STATES

    referrals = Referral.objects.filter(status__in=SUBMITTED_STATES)
    if perspective.is_region:
        return referrals.filter(clinic__region=perspective.organisation)
    if perspective.is_clinic:
        return referrals.filter(clinic=perspective.organisation)
    return referrals.filter(review_unit=perspective.organisation)


def region_referrals(perspective: Perspective) -> QuerySet[Referral]:
    from telederm.referrals.models import SUBMITTED_STATES

    return Referral.objects.filter(status__in=SUBMITTED_STATES, clinic__region=perspective.region)


def get_unit_for_forecast(user: User, public_id: UUID) -> Organisation:
    """A review unit's capacity page: its dermatologists and its region's administrators."""
    units = referral_access.review_units(user)
    regions = Organisation.objects.filter(
        memberships__in=active_memberships(user).filter(role=Role.REGION_ADMIN)
    )
    if not units.exists() and not regions.exists():
        raise PermissionDenied
    unit = (
        Organisation.objects.filter(kind=OrganisationKind.REVIEW_UNIT, public_id=public_id)
        .filter(pk__in=units.values("pk"))
        .first()
    ) or (
        Organisation.objects.filter(
            kind=OrganisationKind.REVIEW_UNIT, public_id=public_id, region__in=regions
        ).first()
    )
    if unit is None:
        raise Http404
    return unit
