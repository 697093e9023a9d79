"""The GP's answered list: unread answers first (SVF before the rest), then read ones, newest
first; two bounded queries instead of a sort over every answer the clinic ever had."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.outcomes.tests import helpers
from telederm.referrals.models import Referral, ReferralStatus
from telederm.review.models import Answer
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def _answered(world: World, hours_ago: int, action: str, read: bool, clinic=None) -> Referral:
    answered = timezone.now() - timedelta(hours=hours_ago)
    referral = helpers.bare_referral(
        world, sent_at=answered - timedelta(days=2), status=ReferralStatus.IN_REVIEW, clinic=clinic
    )
    helpers.bare_answer(referral, world.derm_x, answered, action=action)
    if read:
        Answer.objects.filter(referral=referral).update(read_at=answered + timedelta(hours=1))
    return referral


def test_unread_svf_then_unread_then_read_newest_first(client: Client, world: World) -> None:
    read_new = _answered(world, 1, "none", read=True)
    unread_old = _answered(world, 50, "none", read=False)
    svf = _answered(world, 40, "svf", read=False)
    read_old = _answered(world, 60, "excision", read=True)
    _answered(world, 2, "svf", read=False, clinic=world.clinic_b)  # another clinic's
    login(client, world.gp_a)
    response = client.get(reverse("referrals:index"))
    assert [r.pk for r in response.context["answered"]] == [
        svf.pk,
        unread_old.pk,
        read_new.pk,
        read_old.pk,
    ]
