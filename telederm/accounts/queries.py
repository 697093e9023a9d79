"""Read-side queries of the accounts app (no writes here)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from telederm.accounts.models import Licence, Membership, Organisation, OrganisationKind, Role, User

MIN_LICENSED_GPS = 2


def valid_licence_filter(on: date | None = None) -> Exists:
    on = on or timezone.localdate()
    return Exists(
        Licence.objects.filter(
            user=OuterRef("user"), revoked_at__isnull=True, passed_on__lte=on
        ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
    )


def licensed_gp_count(clinic: Organisation) -> int:
    return (
        Membership.objects.filter(
            organisation=clinic, role=Role.GP, ended_at__isnull=True, user__is_active=True
        )
        .filter(valid_licence_filter())
        .values("user")
        .distinct()
        .count()
    )


def clinics_with_licence_counts(region: Organisation) -> QuerySet[Organisation]:
    licensed = (
        Membership.objects.filter(
            organisation=OuterRef("pk"), role=Role.GP, ended_at__isnull=True, user__is_active=True
        )
        .filter(valid_licence_filter())
        .values("organisation")
        .annotate(n=Count("user", distinct=True))
        .values("n")
    )
    return (
        Organisation.objects.filter(region=region, kind=OrganisationKind.CLINIC)
        .annotate(licensed_gps=Coalesce(Subquery(licensed, output_field=IntegerField()), 0))
        .order_by("name")
    )


def members_of(organisation: Organisation) -> list[dict[str, Any]]:
    """One row per user with a role in the organisation, active users first."""
    memberships = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "created_at")
    )
    rows: dict[int, dict[str, Any]] = {}
    for membership in memberships:
        row = rows.setdefault(
            membership.user_id,
            {
                "user": membership.user,
                "roles": [],
                "ended_roles": [],
                "licence": None,
                "is_gp": False,
            },
        )
        if membership.role == Role.GP and membership.ended_at is None:
            row["is_gp"] = True
        target = "roles" if membership.ended_at is None else "ended_roles"
        row[target].append(membership.get_role_display())
    users = User.objects.filter(pk__in=rows)
    today = timezone.localdate()
    for licence in Licence.objects.filter(user__in=users, revoked_at__isnull=True).order_by(
        "passed_on"
    ):
        if licence.passed_on <= today and (
            licence.valid_until is None or licence.valid_until >= today
        ):
            rows[licence.user_id]["licence"] = licence
    ordered = sorted(rows.values(), key=lambda row: (not row["roles"],))
    return ordered
