"""The demo data a newcomer sees after `make run`."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from telederm.images.models import LesionImage
from telederm.referrals.models import Referral, ReferralStatus

pytestmark = pytest.mark.django_db


def test_demo_referrals_cover_every_state_and_are_created_once() -> None:
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo_referrals", verbosity=0)
    states = sorted(Referral.objects.values_list("status", flat=True))
    assert states == sorted(
        [ReferralStatus.ANSWERED, ReferralStatus.IN_REVIEW] + [ReferralStatus.SENT] * 3
    )
    assert LesionImage.objects.filter(kind="dermoscopic").count() == 5
    assert LesionImage.objects.filter(kind="overview").count() == 5
    assert all(r.review_unit_id for r in Referral.objects.all())
    call_command("seed_demo_referrals", verbosity=0)
    assert Referral.objects.count() == 5
