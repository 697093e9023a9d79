"""Template tags other apps' pages use to show follow-up data without importing the app."""

from __future__ import annotations

from typing import Any

from django import template

from telederm.accounts.models import Organisation, User
from telederm.outcomes import access
from telederm.outcomes.models import FollowUp
from telederm.outcomes.reminders import awaiting, reminder_due_before, reminder_weeks
from telederm.referrals import access as referral_access
from telederm.referrals.models import Referral

register = template.Library()


def _user(context: template.Context) -> User | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


@register.inclusion_tag("outcomes/includes/follow_up_panel.html", takes_context=True)
def follow_up_panel(
    context: template.Context, referral: Referral, inline: bool = False
) -> dict[str, Any]:
    """On the referral and case pages: what happened after an answer recommending excision,
    referral or SVF, with a link to register or change it (for those who may). ``inline``: inside
    another card (the case page's answer column) rather than a card of its own."""
    user = _user(context)
    if user is None or not access.follow_up_referrals(user).filter(pk=referral.pk).exists():
        return {"show": False}
    follow_up = FollowUp.objects.filter(referral=referral).select_related("changed_by").first()
    answered = referral.answer.sent_at
    return {
        "show": True,
        "boxed": not inline,
        "referral": referral,
        "follow_up": follow_up,
        "overdue": follow_up is None and answered is not None and answered < reminder_due_before(),
        "reminder_weeks": reminder_weeks(),
    }


@register.inclusion_tag("outcomes/includes/awaiting_summary.html", takes_context=True)
def awaiting_summary(
    context: template.Context, clinic: Organisation | str | None = None
) -> dict[str, Any]:
    """How many answers of the user's clinics wait for their follow-up (a count, no patient
    data), with a link to the list. With ``clinic``: that clinic only, for its own staff."""
    user = _user(context)
    if user is None:
        return {"count": 0}
    clinics = referral_access.clinic_staff_clinics(user)
    if clinic:  # an unset template variable arrives as ""
        clinics = (
            clinics.filter(pk=clinic.pk) if isinstance(clinic, Organisation) else clinics.none()
        )
    waiting = awaiting(access.follow_up_referrals(user).filter(clinic__in=clinics))
    return {
        "count": waiting.count(),
        "overdue": waiting.filter(answer__sent_at__lt=reminder_due_before()).count(),
        "reminder_weeks": reminder_weeks(),
    }
