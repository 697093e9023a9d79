"""Template context shared by every page: the signed-in user's roles for the navigation."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
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


# Badges count up to this many; the page shows "99+" above it (a count that grows with the
# history would make every page slower as the years go by).
BADGE_CAP = 100


def _capped(queryset: QuerySet[Any]) -> int:
    return int(queryset.order_by()[:BADGE_CAP].count())


def _counts(user: User, *, reviewer: bool, gp: bool) -> dict[str, int]:
    """Badges in the navigation: unread messages, new answers, cases waiting in the queue.

    Each is one indexed query whose cost does not grow with the history (docs/performance.md):
    the clinic and unit filters below are the visibility rules of ``referrals.access`` for these
    states, written out so that no ``DISTINCT`` over every visible referral is needed.
    """
    from telederm.messaging.services import unread_messages
    from telederm.referrals import access
    from telederm.referrals.models import Referral, ReferralStatus

    counts = {"nav_unread_messages": _capped(unread_messages(user))}
    if gp:
        counts["nav_new_answers"] = _capped(
            Referral.objects.filter(
                clinic__in=access.gp_clinics(user),
                status=ReferralStatus.ANSWERED,
                pk__in=access.unread_answer_referrals(),
            )
        )
    if reviewer:
        counts["nav_queue_unassigned"] = _capped(
            Referral.objects.filter(
                review_unit__in=access.review_units(user), status=ReferralStatus.SENT
            )
        )
    return counts
