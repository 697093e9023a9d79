"""The unread count reads from the message's own clinic and unit (copies of its referral's) and
only counts the last ``TELEDERM_UNREAD_DAYS`` days; the navigation badge stops at 99+."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from telederm.audit.services import Actor
from telederm.messaging import services
from telederm.messaging.models import Message
from telederm.referrals.tests.helpers import send
from telederm.review import casework
from telederm.review import services as review_services
from telederm.testing import World, login
from telederm.web import context

pytestmark = pytest.mark.django_db


def test_a_message_carries_its_referrals_clinic_and_unit(world: World) -> None:
    referral = send(world)
    message = services.post_message(
        referral=referral, channel="clinic", body="Hej", by=Actor(user=world.gp_a)
    )
    assert (message.clinic_id, message.review_unit_id) == (world.clinic_a.pk, world.unit_x.pk)


def test_moving_a_case_moves_its_messages_to_the_new_unit(world: World) -> None:
    referral = send(world)
    services.post_message(
        referral=referral, channel="clinic", body="Brådskar det?", by=Actor(user=world.gp_a)
    )
    assert services.unread_messages(world.derm_x).count() == 1
    casework.move_to_unit(
        referral=referral, unit=world.unit_y, reason="Semester", by=Actor(user=world.derm_x)
    )
    assert set(Message.objects.values_list("review_unit", flat=True)) == {world.unit_y.pk}
    assert services.unread_messages(world.derm_x).count() == 0
    assert services.unread_messages(world.derm_y).count() == 1


def test_another_clinic_never_counts_the_message(world: World) -> None:
    referral = send(world)
    review_services.take_case(referral=referral, by=Actor(user=world.derm_x))
    services.post_message(
        referral=referral, channel="clinic", body="Hur stor?", by=Actor(user=world.derm_x)
    )
    assert services.unread_messages(world.gp_a).count() == 1
    assert services.unread_messages(world.gp_b).count() == 0
    assert services.unread_messages(world.derm_y).count() == 0


@override_settings(TELEDERM_UNREAD_DAYS=30)
def test_messages_older_than_the_window_are_no_longer_news(world: World) -> None:
    referral = send(world)
    old, new = (
        services.post_message(
            referral=referral, channel="clinic", body=body, by=Actor(user=world.derm_x)
        )
        for body in ("Gammal fråga", "Ny fråga")
    )
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    Message.objects.filter(pk=new.pk).update(created_at=timezone.now() - timedelta(days=29))
    assert list(services.unread_messages(world.gp_a)) == [new]


def test_the_badge_stops_at_99_plus(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "BADGE_CAP", 3)
    referral = send(world)
    for n in range(5):
        services.post_message(
            referral=referral, channel="clinic", body=f"Fråga {n}", by=Actor(user=world.derm_x)
        )
    assert services.unread_messages(world.gp_a).count() == 5
    login(client, world.gp_a)
    start = client.get(reverse("web:start"))
    assert start.context["nav_unread_messages"] == 3
    monkeypatch.setattr(context, "BADGE_CAP", 100)
    start = client.get(reverse("web:start"))
    assert start.context["nav_unread_messages"] == 5
    assert "99+" not in start.content.decode()
