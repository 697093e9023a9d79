"""The "New referral" button submitted twice (a double click, a retry after a dropped answer)
opens one draft; the same key from an old page later starts a new one."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.referrals import services
from telederm.referrals.models import Referral
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def _start(client: Client, key: str | None) -> str:
    response = client.post(reverse("referrals:start"), {"client_key": key} if key else {})
    assert response.status_code == 302
    return str(response["Location"])


def test_the_same_form_submitted_twice_opens_one_draft(client: Client, world: World) -> None:
    login(client, world.gp_a)
    key = str(uuid.uuid4())
    first, again = _start(client, key), _start(client, key)
    assert first == again
    assert Referral.objects.filter(author=world.gp_a).count() == 1
    assert AuditEvent.objects.filter(action=Action.REFERRAL_CREATED).count() == 1
    _start(client, str(uuid.uuid4()))
    assert Referral.objects.filter(author=world.gp_a).count() == 2


def test_the_start_page_gives_each_form_its_own_key(client: Client, world: World) -> None:
    login(client, world.gp_a)
    pages = [client.get(reverse("web:start")).content.decode() for _ in range(2)]
    keys = [page.split('name="client_key" value="')[1][:36] for page in pages]
    assert all(uuid.UUID(key) for key in keys)
    assert keys[0] != keys[1]


def test_an_old_page_starts_a_new_referral(client: Client, world: World) -> None:
    login(client, world.gp_a)
    key = str(uuid.uuid4())
    first = _start(client, key)
    Referral.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert _start(client, key) != first
    assert Referral.objects.filter(author=world.gp_a).count() == 2


def test_without_a_key_every_submit_starts_a_referral(client: Client, world: World) -> None:
    login(client, world.gp_a)
    _start(client, None)
    _start(client, "not-a-uuid")
    assert Referral.objects.filter(author=world.gp_a).count() == 2


def test_another_gp_with_the_same_key_gets_their_own_draft(world: World) -> None:
    key = uuid.uuid4()
    mine = services.start_referral(clinic=world.clinic_a, by=Actor(user=world.gp_a), client_key=key)
    theirs = services.start_referral(
        clinic=world.clinic_b, by=Actor(user=world.gp_b), client_key=key
    )
    assert mine.pk != theirs.pk
    assert (mine.author, theirs.author) == (world.gp_a, world.gp_b)
