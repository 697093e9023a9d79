"""The seven-day promise: warn the review unit before a deadline and its lead after it.

Run periodically (``flag_deadlines_task``). Each warning is recorded as a ``DeadlineFlag`` in the
same transaction as its e-mails are queued, so running it again, or on two workers at once,
never sends a warning twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from telederm.accounts.models import Membership, Role, User
from telederm.audit.models import Action as AuditAction
from telederm.audit.services import Actor, record
from telederm.referrals.models import Referral, ReferralStatus
from telederm.review.models import DeadlineFlag
from telederm.review.services import _notify

# Day 5 of 7: two calendar days left.
WARN_DAYS_LEFT = 2
OPEN = [
    ReferralStatus.SENT,
    ReferralStatus.IN_REVIEW,
    ReferralStatus.COMPLEMENT_REQUESTED,
    ReferralStatus.SECOND_READING,
]


def _unit_people(referral: Referral, roles: list[str]) -> list[User]:
    return list(
        User.objects.filter(
            memberships__in=Membership.objects.filter(
                organisation=referral.review_unit, role__in=roles, ended_at__isnull=True
            ),
            is_active=True,
        ).distinct()
    )


def flag_deadlines(today: date | None = None) -> int:
    """Send the due warnings; returns how many were sent."""
    today = today or timezone.localdate()
    sent = 0
    due = Referral.objects.filter(status__in=OPEN, deadline__isnull=False).select_related(
        "assigned_to", "review_unit", "clinic", "patient"
    )
    approaching = due.filter(
        deadline__lte=today + timedelta(days=WARN_DAYS_LEFT), deadline__gte=today
    ).exclude(deadline_flags__kind=DeadlineFlag.Kind.APPROACHING)
    for referral in approaching:
        people = (
            [referral.assigned_to]
            if referral.assigned_to
            else _unit_people(referral, [Role.DERMATOLOGIST, Role.UNIT_LEAD])
        )
        sent += _flag(
            referral, DeadlineFlag.Kind.APPROACHING, people, "review/email/deadline_approaching.txt"
        )
    overdue = due.filter(deadline__lt=today).exclude(deadline_flags__kind=DeadlineFlag.Kind.OVERDUE)
    for referral in overdue:
        sent += _flag(
            referral,
            DeadlineFlag.Kind.OVERDUE,
            _unit_people(referral, [Role.UNIT_LEAD]),
            "review/email/deadline_overdue.txt",
        )
    return sent


def _flag(referral: Referral, kind: str, people: list[User], template: str) -> int:
    try:
        with transaction.atomic():
            DeadlineFlag.objects.create(referral=referral, kind=kind)
            record(
                AuditAction.DEADLINE_FLAGGED,
                by=Actor.system(),
                organisation=referral.review_unit,
                target=referral,
                target_label=referral.number or "",
                detail={"kind": kind, "recipients": len(people)},
            )
            _notify(people, template)
    except IntegrityError:
        return 0  # another worker flagged it first
    return 1
