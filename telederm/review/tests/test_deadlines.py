"""Deadline warnings: before day 7 to the unit, after it to the unit lead, never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from telederm.accounts.models import Role
from telederm.accounts.tests.factories import member
from telederm.audit.services import Actor
from telederm.referrals.models import Referral
from telederm.referrals.tests.helpers import send
from telederm.review import services
from telederm.review.deadlines import flag_deadlines
from telederm.review.models import DeadlineFlag
from telederm.testing import World

pytestmark = pytest.mark.django_db


def test_approaching_deadline_warns_the_unit_once(
    world: World, django_capture_on_commit_callbacks
) -> None:
    referral = send(world)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        assert flag_deadlines(today) == 0  # seven days left: nothing yet
        assert flag_deadlines(today + timedelta(days=5)) == 1
        assert flag_deadlines(today + timedelta(days=5)) == 0
        assert flag_deadlines(today + timedelta(days=6)) == 0
    assert [m.to for m in mail.outbox] == [[world.derm_x.email]]
    assert "1912" not in str(mail.outbox[0].body)
    assert DeadlineFlag.objects.filter(referral=referral).count() == 1


def test_assigned_case_warns_only_its_dermatologist(
    world: World, django_capture_on_commit_callbacks
) -> None:
    member(world.unit_x, Role.DERMATOLOGIST)
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    with django_capture_on_commit_callbacks(execute=True):
        flag_deadlines(timezone.localdate() + timedelta(days=6))
    assert [m.to for m in mail.outbox] == [[world.derm_x.email]]


def test_overdue_case_goes_to_the_unit_lead(
    world: World, django_capture_on_commit_callbacks
) -> None:
    lead = member(world.unit_x, Role.UNIT_LEAD)
    referral = send(world)
    Referral.objects.filter(pk=referral.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert flag_deadlines() == 1
        assert flag_deadlines() == 0
    assert [m.to for m in mail.outbox] == [[lead.email]]


def test_answered_cases_are_left_alone(world: World) -> None:
    referral = send(world)
    services.take_case(referral=referral, by=Actor(user=world.derm_x))
    services.send_answer(
        referral=referral,
        diagnosis="benign_naevus",
        certainty="certain",
        action="none",
        text_to_gp="Benignt.",
        by=Actor(user=world.derm_x),
    )
    assert flag_deadlines(timezone.localdate() + timedelta(days=30)) == 0


def test_scheduler_queues_the_task(world: World) -> None:
    referral = send(world)
    Referral.objects.filter(pk=referral.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    member(world.unit_x, Role.UNIT_LEAD)
    call_command("run_periodic", "--once")  # the test task backend runs it at once
    assert DeadlineFlag.objects.filter(referral=referral, kind="overdue").exists()
