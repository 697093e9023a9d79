"""Reminders when no follow-up is registered, and the "Awaiting follow-up" list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.audit.models import Action as AuditAction
from telederm.audit.models import AuditEvent
from telederm.outcomes.models import FollowUpReminder
from telederm.outcomes.reminders import send_reminders
from telederm.outcomes.tasks import remind_follow_ups_task
from telederm.outcomes.tests import helpers
from telederm.referrals.models import Referral, ReferralStatus
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def _answered(world: World, weeks_ago: float, action: str = "excision", clinic=None) -> Referral:
    answered = timezone.now() - timedelta(weeks=weeks_ago)
    referral = helpers.bare_referral(
        world,
        sent_at=answered - timedelta(days=2),
        status=ReferralStatus.IN_REVIEW,
        clinic=clinic,
    )
    helpers.bare_answer(referral, world.derm_x, answered, action=action)
    return referral


def test_a_reminder_is_sent_once_after_six_weeks(
    world: World, django_capture_on_commit_callbacks
) -> None:
    due = _answered(world, 7)
    _answered(world, 5)  # not yet
    _answered(world, 8, action="follow_up")  # no follow-up expected
    registered = _answered(world, 9)
    helpers.follow_up(registered, world.gp_a, outcome="not_done")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders() == 1
    assert list(FollowUpReminder.objects.values_list("referral_id", flat=True)) == [due.pk]
    assert [m.to for m in mail.outbox] == [[world.gp_a.email]]
    body = str(mail.outbox[0].body)
    assert reverse("outcomes:awaiting") in body
    assert str(due.number) not in body
    assert "1912" not in body
    event = AuditEvent.objects.get(action=AuditAction.OUTCOME_REMINDER_SENT)
    assert event.organisation_id == world.clinic_a.pk
    assert event.target_label == due.number

    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders() == 0
        remind_follow_ups_task.enqueue()
    assert len(mail.outbox) == 1
    assert FollowUpReminder.objects.count() == 1


def test_one_email_per_clinic_and_the_setting(
    world: World, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TELEDERM_OUTCOME_REMINDER_WEEKS = 2
    for _n in range(3):
        _answered(world, 3)
    _answered(world, 3, clinic=world.clinic_b)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders() == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.gp_a.email, world.gp_b.email])


def test_the_awaiting_list_and_its_summary(client: Client, world: World) -> None:
    old = _answered(world, 7)
    new = _answered(world, 1)
    other = _answered(world, 7, clinic=world.clinic_b)
    Referral.objects.filter(pk=other.pk).update(review_unit=world.unit_y)
    url = reverse("outcomes:awaiting")

    login(client, world.gp_a)
    page = client.get(url).content.decode()
    assert str(old.number) in page
    assert str(new.number) in page
    assert str(other.number) not in page
    assert "Over 6 weeks" in page
    assert AuditEvent.objects.filter(action=AuditAction.REFERRAL_LIST_VIEWED).exists()
    start = client.get(reverse("web:start")).content.decode()
    assert "Awaiting follow-up" in start
    assert url in start
    assert str(old.number) not in start  # the start page gives a count only

    admin = Client()
    login(admin, world.admin_a)
    clinic_page = admin.get(reverse("accounts:organisation", args=[world.clinic_a.public_id]))
    assert "Awaiting follow-up" in clinic_page.content.decode()
    assert str(old.number) in admin.get(url).content.decode()

    derm = Client()
    login(derm, world.derm_y)
    listed = derm.get(url).content.decode()
    assert str(other.number) in listed
    assert str(old.number) not in listed

    region = Client()
    login(region, world.region_admin)
    assert region.get(url).status_code == 403
    region_page = region.get(reverse("accounts:organisation", args=[world.clinic_a.public_id]))
    assert "Awaiting follow-up" not in region_page.content.decode()
