"""Background tasks of the referrals app."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from telederm.accounts.models import Membership, Role, User
from telederm.accounts.tasks import send_plain_email_task
from telederm.lib.tasks import enqueue_with_transaction
from telederm.referrals.models import Referral, Suspicion


@task()
def notify_new_referral_task(referral_id: int) -> int:
    """Tell the review unit at once about a referral with suspected malignancy.

    Other referrals appear in the queue and its badge; an e-mail for each would drown the
    urgent ones. The e-mail holds a link only, never patient data. Each person's e-mail is
    its own task, so that one retried while the SMTP server is down is never sent twice to the
    others.
    """
    referral = Referral.objects.filter(pk=referral_id).select_related("review_unit").first()
    if referral is None or referral.review_unit is None:
        return 0
    if referral.suspicion not in (Suspicion.MELANOMA, Suspicion.OTHER_MALIGNANCY):
        return 0
    people = User.objects.filter(
        memberships__in=Membership.objects.filter(
            organisation=referral.review_unit,
            role__in=[Role.DERMATOLOGIST, Role.UNIT_LEAD],
            ended_at__isnull=True,
        ),
        is_active=True,
    ).distinct()
    link = settings.TELEDERM_BASE_URL + reverse("web:start")
    queued = 0
    with transaction.atomic():
        for person in people:
            with translation.override(person.language):
                text = render_to_string("referrals/email/urgent_referral.txt", {"link": link})
            subject, _sep, body = text.partition("\n")
            enqueue_with_transaction(
                send_plain_email_task, [person.email], subject.strip(), body.lstrip()
            )
            queued += 1
    return queued
