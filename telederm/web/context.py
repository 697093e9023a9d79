"""Template context shared by every page: the signed-in user's roles for the navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from telederm.accounts.models import Role, User


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(
        user.memberships.filter(ended_at__isnull=True).select_related("organisation")
    )
    roles = {membership.role for membership in memberships}
    reviewer = bool(roles & {Role.DERMATOLOGIST, Role.UNIT_LEAD})
    counts = _counts(user, reviewer=reviewer, gp=Role.GP in roles)
    return {
        **counts,
        "nav_memberships": memberships,
        "nav_is_region_admin": Role.REGION_ADMIN in roles,
        "nav_is_reviewer": bool(roles & {Role.DERMATOLOGIST, Role.UNIT_LEAD}),
        "nav_is_gp": Role.GP in roles,
        "nav_admin_orgs": [m.organisation for m in memberships if m.role == Role.CENTER_ADMIN],
    }


def _counts(user: User, *, reviewer: bool, gp: bool) -> dict[str, int]:
    """Badges in the navigation: unread messages, new answers, cases waiting in the queue."""
    from telederm.messaging.services import unread_messages
    from telederm.referrals import access
    from telederm.referrals.models import ReferralStatus

    counts = {"nav_unread_messages": unread_messages(user).count()}
    if gp:
        counts["nav_new_answers"] = (
            access.referrals_visible_to(user)
            .filter(
                clinic__in=access.gp_clinics(user),
                status=ReferralStatus.ANSWERED,
                answer__read_at__isnull=True,
            )
            .count()
        )
    if reviewer:
        counts["nav_queue_unassigned"] = (
            access.referrals_visible_to(user)
            .filter(review_unit__in=access.review_units(user), status=ReferralStatus.SENT)
            .count()
        )
    return counts
