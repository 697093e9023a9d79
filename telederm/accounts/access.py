"""Who may manage which organisation and which user.

"No access" looks exactly like "does not exist": the getters raise ``Http404`` for both.
Function pages that a role lacks (a GP on the admin pages) raise ``PermissionDenied`` (403).
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from telederm.accounts.models import (
    ClinicApplication,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)


def me(request: HttpRequest) -> User:
    """The signed-in user of a view behind login (the middleware guarantees one)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def active_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, ended_at__isnull=True, user__is_active=True)


def has_role(user: User, *roles: str) -> bool:
    return user.is_authenticated and active_memberships(user).filter(role__in=roles).exists()


def is_region_admin(user: User) -> bool:
    return has_role(user, Role.REGION_ADMIN)


def administered_regions(user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        memberships__in=active_memberships(user).filter(role=Role.REGION_ADMIN)
    )


def managed_organisations(user: User) -> QuerySet[Organisation]:
    """Organisations whose users this user may manage.

    A center admin manages their own clinic; a region admin manages every clinic and review
    unit of their region.
    """
    own_clinics = active_memberships(user).filter(role=Role.CENTER_ADMIN)
    regions = administered_regions(user)
    return Organisation.objects.filter(
        Q(memberships__in=own_clinics) | Q(region__in=regions) | Q(pk__in=regions)
    ).distinct()


def require_admin(user: User) -> None:
    """Function-page guard: the admin pages are for center and region administrators only."""
    if not has_role(user, Role.CENTER_ADMIN, Role.REGION_ADMIN):
        raise PermissionDenied


def require_region_admin(user: User) -> None:
    if not is_region_admin(user):
        raise PermissionDenied


def get_managed_organisation(user: User, public_id: UUID) -> Organisation:
    require_admin(user)
    try:
        return managed_organisations(user).get(public_id=public_id)
    except Organisation.DoesNotExist as exc:
        raise Http404 from exc


def get_member_for_admin(organisation: Organisation, public_id: UUID) -> User:
    """A user who has (or had) a membership in an organisation the caller manages."""
    user = (
        User.objects.filter(public_id=public_id, memberships__organisation=organisation)
        .distinct()
        .first()
    )
    if user is None:
        raise Http404
    return user


def can_edit_personal_fields(admin: User, target: User) -> bool:
    """A center admin edits a user's personal fields only if every membership is theirs.

    Otherwise one clinic could change the name or phone of a doctor who also works elsewhere.
    Region admins manage every organisation of their region.
    """
    managed = set(managed_organisations(admin).values_list("pk", flat=True))
    target_orgs = set(active_memberships(target).values_list("organisation_id", flat=True))
    return target_orgs <= managed


def get_application_for(user: User, public_id: UUID) -> ClinicApplication:
    require_region_admin(user)
    try:
        return ClinicApplication.objects.get(
            public_id=public_id, region__in=administered_regions(user)
        )
    except ClinicApplication.DoesNotExist as exc:
        raise Http404 from exc


def roles_assignable_in(organisation: Organisation, by: User) -> list[str]:
    """Which roles the caller may hand out in this organisation."""
    if organisation.kind == OrganisationKind.CLINIC:
        return [Role.GP, Role.CENTER_ADMIN]
    if organisation.kind == OrganisationKind.REVIEW_UNIT and is_region_admin(by):
        return [Role.DERMATOLOGIST, Role.UNIT_LEAD]
    if organisation.kind == OrganisationKind.REGION and is_region_admin(by):
        return [Role.REGION_ADMIN]
    return []
