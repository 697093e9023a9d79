"""An answer older than the follow-up window no longer waits for a follow-up (it counts as
"no follow-up registered"): the work list and the start page's count stay bounded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from telederm.outcomes.reminders import awaiting
from telederm.outcomes.tests import helpers
from telederm.referrals.models import Referral, ReferralStatus
from telederm.testing import World

pytestmark = pytest.mark.django_db


def _answered(world: World, days_ago: int) -> Referral:
    answered = timezone.now() - timedelta(days=days_ago)
    referral = helpers.bare_referral(
        world, sent_at=answered - timedelta(days=2), status=ReferralStatus.IN_REVIEW
    )
    helpers.bare_answer(referral, world.derm_x, answered, action="excision")
    return referral


@override_settings(TELEDERM_FOLLOW_UP_WINDOW_MONTHS=6)
def test_answers_older_than_the_window_do_not_wait(world: World) -> None:
    inside = _answered(world, 170)
    _answered(world, 200)
    assert list(awaiting(Referral.objects.all())) == [inside]


def test_the_default_window_is_a_year(world: World) -> None:
    inside = _answered(world, 360)
    _answered(world, 380)
    assert list(awaiting(Referral.objects.all())) == [inside]
