"""Who sees and changes which referral. Images, lesions and (later) answers and messages are
reached through their referral, so these functions are the one place the rules live.

- A GP sees the submitted (and withdrawn) referrals of every clinic where they are a GP, and their
  own drafts. Drafts of colleagues are private work in progress.
- A dermatologist (or unit lead) sees the submitted referrals routed to their review units, and
  cases of other units where a colleague invited them to consult.
- Only the author edits a draft; any GP of the clinic may withdraw a sent referral.
- "No access" and "does not exist" are the same answer: 404.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404

from telederm.accounts.access import active_memberships
from telederm.accounts.models import Organisation, Role, User
from telederm.referrals.models import (
    SUBMITTED_STATES,
    Referral,
    ReferralConsultant,
    ReferralStatus,
)


def gp_clinics(user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        memberships__in=active_memberships(user).filter(role=Role.GP)
    )


def review_units(user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        memberships__in=active_memberships(user).filter(
            role__in=[Role.DERMATOLOGIST, Role.UNIT_LEAD]
        )
    )


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """Every referral the user may read, as one queryset without joins (so no duplicates).

    The clinic, unit and consultation ids are read first (a few small indexed queries) and put
    into the query as constants: PostgreSQL can then combine the indexes on ``clinic_id``,
    ``review_unit_id`` and ``id`` (a BitmapOr), and a further filter (patient, status) narrows it
    without visiting every referral of a review unit. With subqueries inside the ``OR`` it read
    the whole table (docs/performance.md).
    """
    if not user.is_authenticated or not user.is_active:
        return Referral.objects.none()
    clinics = list(gp_clinics(user).values_list("pk", flat=True))
    units = list(review_units(user).values_list("pk", flat=True))
    consulted = list(
        ReferralConsultant.objects.filter(user=user).values_list("referral_id", flat=True)
    )
    rules = Q(pk__in=[])
    if clinics:
        rules |= Q(clinic__in=clinics, status__in=[*SUBMITTED_STATES, ReferralStatus.WITHDRAWN])
        rules |= Q(clinic__in=clinics, author=user, status=ReferralStatus.DRAFT)
    if units:
        rules |= Q(review_unit__in=units, status__in=SUBMITTED_STATES)
    if consulted:
        rules |= Q(pk__in=consulted, status__in=SUBMITTED_STATES)
    return Referral.objects.filter(rules)


def is_consultant(user: User, referral: Referral) -> bool:
    return (
        referral.status in SUBMITTED_STATES
        and referral.consultants.filter(user=user).exists()
        and review_units(user).exists()
    )


def is_reviewer(user: User, referral: Referral) -> bool:
    if referral.review_unit_id is None or referral.status not in SUBMITTED_STATES:
        return False
    return review_units(user).filter(pk=referral.review_unit_id).exists()


def get_referral_for(user: User, public_id: UUID | str, *, write: bool = False) -> Referral:
    """The referral if the user may see it (``write``: may change it), else 404."""
    try:
        referral = (
            referrals_visible_to(user)
            .select_related("patient", "clinic", "author")
            .get(public_id=public_id)
        )
    except (Referral.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    if write and referral.status == ReferralStatus.DRAFT and referral.author_id != user.pk:
        raise Http404
    return referral


def can_edit(user: User, referral: Referral) -> bool:
    return referral.status == ReferralStatus.DRAFT and referral.author_id == user.pk


def can_add_images(user: User, referral: Referral) -> bool:
    """Photos go into the author's draft, or into a case waiting for the clinic's complement."""
    if can_edit(user, referral):
        return True
    return (
        referral.status == ReferralStatus.COMPLEMENT_REQUESTED
        and gp_clinics(user).filter(pk=referral.clinic_id).exists()
    )


def can_withdraw(user: User, referral: Referral) -> bool:
    # Once a dermatologist has taken the case it can no longer be withdrawn.
    if referral.status == ReferralStatus.DRAFT:
        return referral.author_id == user.pk
    return (
        referral.status == ReferralStatus.SENT
        and gp_clinics(user).filter(pk=referral.clinic_id).exists()
    )


def clinic_staff_clinics(user: User) -> QuerySet[Organisation]:
    """Clinics where the user works as GP or as center administrator."""
    return Organisation.objects.filter(
        memberships__in=active_memberships(user).filter(role__in=[Role.GP, Role.CENTER_ADMIN])
    )


def follow_up_referrals(user: User) -> QuerySet[Referral]:
    """Answered referrals whose follow-up (excision or visit, PAD) the user may see and register:
    the GPs and the center administrators of the referral's clinic and the dermatologists of the
    review unit that answered it. Which answers call for a follow-up is the outcomes app's rule."""
    if not user.is_authenticated or not user.is_active:
        return Referral.objects.none()
    # Ids as constants and no join: see referrals_visible_to.
    clinics = list(clinic_staff_clinics(user).values_list("pk", flat=True))
    units = list(review_units(user).values_list("pk", flat=True))
    return Referral.objects.filter(
        Q(clinic__in=clinics) | Q(review_unit__in=units), status=ReferralStatus.ANSWERED
    )


def get_follow_up_referral(user: User, public_id: UUID | str) -> Referral:
    """An answered referral whose follow-up the user may see and register, else 404."""
    try:
        return (
            follow_up_referrals(user)
            .select_related("patient", "clinic", "review_unit")
            .get(public_id=public_id)
        )
    except (Referral.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def unread_answer_referrals() -> QuerySet[Any]:
    """Ids of the referrals whose answer no GP has marked as read, as a subquery.

    Filtering on this (``pk__in=``) lets PostgreSQL start from the few unread answers (index on
    ``review_answer.read_at``) instead of from every answered referral of a clinic.
    """
    from telederm.review.models import Answer

    return Answer.objects.filter(read_at__isnull=True).values("referral_id")
