"""Template context shared by every page: the signed-in user's roles for the navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from telederm.accounts.models import Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(
        user.memberships.filter(ended_at__isnull=True).select_related("organisation")
    )
    roles = {membership.role for membership in memberships}
    return {
        "nav_memberships": memberships,
        "nav_is_region_admin": Role.REGION_ADMIN in roles,
        "nav_is_reviewer": bool(roles & {Role.DERMATOLOGIST, Role.UNIT_LEAD}),
        "nav_is_gp": Role.GP in roles,
        "nav_admin_orgs": [m.organisation for m in memberships if m.role == Role.CENTER_ADMIN],
    }
