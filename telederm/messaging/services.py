"""Posting and reading messages. Who may use which thread:

- clinic thread: the clinic's GPs, and the dermatologists who review the case (its review unit)
  or were invited to consult;
- consultation thread: the dermatologists only. The clinic never sees it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from telederm.accounts.models import Membership, Role, User
from telederm.accounts.tasks import send_plain_email_task
from telederm.audit.models import Action
from telederm.audit.services import Actor, record
from telederm.lib.tasks import enqueue_with_transaction
from telederm.messaging.models import Channel, Message, ThreadRead
from telederm.referrals import access
from telederm.referrals.models import (
    SUBMITTED_STATES,
    Referral,
    ReferralConsultant,
    ReferralStatus,
)

MAX_LENGTH = 5000


def role_in_thread(user: User, referral: Referral, channel: str) -> str | None:
    """The role the user speaks in on this thread, or None when the thread is closed to them."""
    if access.is_reviewer(user, referral) or access.is_consultant(user, referral):
        return Role.DERMATOLOGIST
    if channel == Channel.CLINIC and access.gp_clinics(user).filter(pk=referral.clinic_id).exists():
        return Role.GP
    return None


def thread(referral: Referral, channel: str) -> QuerySet[Message]:
    return Message.objects.filter(referral=referral, channel=channel).select_related("author")


def post_message(
    *, referral: Referral, channel: str, body: str, by: Actor, client_key: uuid.UUID | None = None
) -> Message:
    if by.user is None:
        raise PermissionDenied
    role = role_in_thread(by.user, referral, channel)
    if role is None:
        raise PermissionDenied
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a message.")})
    if len(body) > MAX_LENGTH:
        raise ValidationError({"body": _("The message is too long (at most 5000 characters).")})
    key = client_key or uuid.uuid4()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                referral=referral,
                channel=channel,
                author=by.user,
                author_role=role,
                body=body,
                client_key=key,
            )
            record(
                Action.MESSAGE_SENT,
                by=by,
                role=role,
                organisation=referral.clinic if role == Role.GP else referral.review_unit,
                target=referral,
                target_label=referral.number or "",
                patient_id=referral.patient.personal_number if referral.patient else "",
                detail={"channel": channel, "message": str(message.public_id)},
            )
            mark_read(referral=referral, channel=channel, user=by.user)
            _notify(message, role)
    except IntegrityError:
        return Message.objects.get(author=by.user, client_key=key)
    return message


def _recipients(message: Message, role: str) -> QuerySet[User]:
    referral = message.referral
    dermatologists = Q(pk=referral.assigned_to_id) | Q(
        pk__in=ReferralConsultant.objects.filter(referral=referral).values("user")
    )
    if message.channel == Channel.CONSULTATION:
        people = User.objects.filter(dermatologists)
    elif role == Role.GP:
        people = User.objects.filter(dermatologists)
        if referral.assigned_to_id is None:
            people = User.objects.filter(
                memberships__in=Membership.objects.filter(
                    organisation=referral.review_unit_id,
                    role__in=[Role.DERMATOLOGIST, Role.UNIT_LEAD],
                    ended_at__isnull=True,
                )
            )
    else:
        people = User.objects.filter(
            memberships__in=Membership.objects.filter(
                organisation=referral.clinic_id, role=Role.GP, ended_at__isnull=True
            )
        )
    return people.filter(is_active=True).exclude(pk=message.author_id).distinct()


def _notify(message: Message, role: str) -> None:
    """E-mail the other side that a message is waiting: a link only, never patient data."""
    link = settings.TELEDERM_BASE_URL + reverse("web:start")
    for person in _recipients(message, role):
        with translation.override(person.language):
            text = render_to_string("messaging/email/new_message.txt", {"link": link})
        subject, _sep, body = text.partition("\n")
        enqueue_with_transaction(
            send_plain_email_task, [person.email], subject.strip(), body.lstrip()
        )


def mark_read(*, referral: Referral, channel: str, user: User) -> None:
    ThreadRead.objects.update_or_create(
        user=user, referral=referral, channel=channel, defaults={"last_read_at": timezone.now()}
    )


def unread_messages(user: User) -> QuerySet[Message]:
    """Messages by others in threads the user can read, newer than where they stopped reading,
    from the last ``TELEDERM_UNREAD_DAYS`` days (docs/decisions/0006-unread-window.md).

    The window keeps the badge on every page independent of the size of the history: the query
    starts from the index on ``created_at`` instead of from every referral the user may read.
    Older messages stay in their threads; they only no longer count as news.
    """
    if not user.is_authenticated or not user.is_active:
        return Message.objects.none()
    clinics = list(access.gp_clinics(user).values_list("pk", flat=True))
    units = list(access.review_units(user).values_list("pk", flat=True))
    submitted = list(SUBMITTED_STATES)
    # ``clinic`` and ``review_unit`` are the message's copies of its referral's (indexed with
    # ``created_at``); the referral's status is still checked, as in referrals.access.
    scope = Q(pk__in=[])
    if clinics:
        scope |= Q(
            channel=Channel.CLINIC,
            clinic__in=clinics,
            referral__status__in=[*submitted, ReferralStatus.WITHDRAWN],
        )
    if units:
        scope |= Q(review_unit__in=units, referral__status__in=submitted)
        scope |= Q(
            referral__in=ReferralConsultant.objects.filter(user=user).values("referral_id"),
            referral__status__in=submitted,
        )
    read_up_to = ThreadRead.objects.filter(
        user=user,
        referral=OuterRef("referral"),
        channel=OuterRef("channel"),
        last_read_at__gte=OuterRef("created_at"),
    )
    since = timezone.now() - timedelta(days=settings.TELEDERM_UNREAD_DAYS)
    return (
        Message.objects.filter(created_at__gte=since)
        .filter(scope)
        .exclude(author=user)
        .exclude(Exists(read_up_to))
    )


def invite_consultant(*, referral: Referral, colleague: User, by: Actor) -> ReferralConsultant:
    if by.user is None or not access.is_reviewer(by.user, referral):
        raise PermissionDenied
    if colleague.pk == by.user.pk:
        raise ValidationError(_("Choose a colleague, not yourself."))
    if not access.review_units(colleague).filter(region_id=referral.clinic.region_id).exists():
        raise ValidationError(_("Only dermatologists of the region's review units can be asked."))
    with transaction.atomic():
        consultant, created = ReferralConsultant.objects.get_or_create(
            referral=referral, user=colleague, defaults={"invited_by": by.user}
        )
        if created:
            record(
                Action.CONSULTANT_INVITED,
                by=by,
                role=Role.DERMATOLOGIST,
                organisation=referral.review_unit,
                target=referral,
                target_label=referral.number or "",
                patient_id=referral.patient.personal_number if referral.patient else "",
                detail={"colleague": colleague.hsa_id},
            )
    return consultant
