"""Cases waiting for their follow-up, and the reminder to the clinic when none comes.

``TELEDERM_OUTCOME_REMINDER_WEEKS`` (default 6) after an answer recommending excision, the
dermatology clinic or SVF, a referral without a registered follow-up gets one reminder: a
``FollowUpReminder`` row (unique per referral) in the same transaction as the audit event and
the e-mail, so that running the task again, or on two workers at once, never repeats it. The
e-mail goes to the clinic's GPs (one per clinic and run) and holds a link only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from telederm.accounts.models import Membership, Organisation, Role, User
from telederm.accounts.tasks import send_plain_email_task
from telederm.audit.models import Action as AuditAction
from telederm.audit.services import Actor, record
from telederm.lib.tasks import enqueue_with_transaction
from telederm.outcomes.access import FOLLOW_UP_ACTIONS
from telederm.outcomes.models import FollowUpReminder
from telederm.referrals.models import Referral, ReferralStatus


def reminder_weeks() -> int:
    return int(getattr(settings, "TELEDERM_OUTCOME_REMINDER_WEEKS", 6))


def reminder_due_before(now: datetime | None = None) -> datetime:
    """Answers sent before this moment without a follow-up are overdue."""
    return (now or timezone.now()) - timedelta(weeks=reminder_weeks())


def awaiting_since(now: datetime | None = None) -> datetime:
    """Answers older than ``TELEDERM_FOLLOW_UP_WINDOW_MONTHS`` no longer wait for a follow-up:
    they count as "no follow-up registered" in the statistics. The window also keeps the work
    list and its count on the start page bounded by a year's referrals, not by the history."""
    months = int(getattr(settings, "TELEDERM_FOLLOW_UP_WINDOW_MONTHS", 12))
    return (now or timezone.now()) - timedelta(days=round(months * 30.44))


def awaiting(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """Answered referrals recommending excision, referral or SVF with no follow-up yet, answered
    within the follow-up window (``awaiting_since``), the oldest answer first."""
    return (
        referrals.filter(
            status=ReferralStatus.ANSWERED,
            answered_at__gte=awaiting_since(),
            answer__sent_at__isnull=False,
            answer__action__in=FOLLOW_UP_ACTIONS,
            follow_up__isnull=True,
        )
        .select_related("answer", "patient", "clinic", "review_unit")
        .order_by("answer__sent_at", "pk")
    )


def _clinic_gps(clinic: Organisation) -> list[User]:
    return list(
        User.objects.filter(
            memberships__in=Membership.objects.filter(
                organisation=clinic, role=Role.GP, ended_at__isnull=True
            ),
            is_active=True,
        ).distinct()
    )


def _email(people: list[User]) -> None:
    link = settings.TELEDERM_BASE_URL + reverse("outcomes:awaiting")
    for person in people:
        with translation.override(person.language):
            text = render_to_string("outcomes/email/follow_up_reminder.txt", {"link": link})
        subject, _sep, body = text.partition("\n")
        enqueue_with_transaction(
            send_plain_email_task, [person.email], subject.strip(), body.lstrip()
        )


def send_reminders(now: datetime | None = None) -> int:
    """Flag and announce every overdue follow-up not flagged before; returns how many."""
    due = (
        awaiting(Referral.objects.all())
        .filter(answer__sent_at__lt=reminder_due_before(now), follow_up_reminder__isnull=True)
        .select_related("clinic", "patient")
    )
    per_clinic: dict[int, list[Referral]] = defaultdict(list)
    for referral in due:
        per_clinic[referral.clinic_id].append(referral)
    sent = 0
    for referrals in per_clinic.values():
        with transaction.atomic():
            flagged = [referral for referral in referrals if _flag(referral)]
            if flagged:
                _email(_clinic_gps(flagged[0].clinic))
            sent += len(flagged)
    return sent


def _flag(referral: Referral) -> bool:
    try:
        with transaction.atomic():
            FollowUpReminder.objects.create(referral=referral)
            record(
                AuditAction.OUTCOME_REMINDER_SENT,
                by=Actor.system(),
                organisation=referral.clinic,
                target=referral,
                target_label=referral.number or "",
                patient_id=referral.patient.personal_number if referral.patient else "",
            )
    except IntegrityError:
        return False  # another worker flagged it first
    return True
