"""Threads on a referral: the clinic thread, the internal consultation, unread counts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.messaging import services
from telederm.messaging.models import Message
from telederm.referrals.models import Referral
from telederm.referrals.tests.helpers import send
from telederm.review import services as review_services
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def post(
    client: Client, referral: Referral, channel: str, body: str, key: str | None = None
) -> Any:
    return client.post(
        reverse("messaging:thread", args=[referral.public_id, channel]),
        {"body": body, "client_key": key or str(uuid.uuid4())},
        HTTP_HX_REQUEST="true",
    )


def test_gp_and_dermatologist_exchange_messages(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    referral = send(world)
    review_services.take_case(referral=referral, by=Actor(user=world.derm_x))
    login(client, world.gp_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, referral, "clinic", "Patienten undrar om det brådskar.")
    assert response.status_code == 200
    assert "Patienten undrar" in response.content.decode()
    # The dermatologist who took the case is told, without patient data.
    assert [m.to for m in mail.outbox] == [[world.derm_x.email]]
    assert "1912" not in str(mail.outbox[0].body)
    assert services.unread_messages(world.derm_x).count() == 1

    derm = Client()
    login(derm, world.derm_x)
    page = derm.get(
        reverse("messaging:thread", args=[referral.public_id, "clinic"]), HTTP_HX_REQUEST="true"
    )
    assert "Patienten undrar" in page.content.decode()
    assert services.unread_messages(world.derm_x).count() == 0
    post(derm, referral, "clinic", "Nej, svar kommer i veckan.")
    assert services.unread_messages(world.gp_a).count() == 1
    assert AuditEvent.objects.filter(action=Action.MESSAGE_SENT).count() == 2
    assert AuditEvent.objects.filter(action=Action.THREAD_READ, actor_id=world.derm_x.pk).exists()


def test_the_clinic_never_sees_the_consultation(client: Client, world: World) -> None:
    referral = send(world)
    review_services.take_case(referral=referral, by=Actor(user=world.derm_x))
    services.post_message(
        referral=referral,
        channel="consultation",
        body="Hemlig fundering",
        by=Actor(user=world.derm_x),
    )
    login(client, world.gp_a)
    url = reverse("messaging:thread", args=[referral.public_id, "consultation"])
    assert client.get(url).status_code == 404
    assert post(client, referral, "consultation", "Får jag läsa?").status_code == 404
    detail = client.get(reverse("referrals:detail", args=[referral.public_id])).content.decode()
    clinic_thread = client.get(
        reverse("messaging:thread", args=[referral.public_id, "clinic"]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Hemlig fundering" not in detail
    assert "Hemlig fundering" not in clinic_thread
    assert services.unread_messages(world.gp_a).count() == 0
    with pytest.raises(PermissionDenied):
        services.post_message(
            referral=referral, channel="consultation", body="x", by=Actor(user=world.gp_a)
        )


def test_invited_colleague_from_another_unit_can_consult(client: Client, world: World) -> None:
    referral = send(world)
    review_services.take_case(referral=referral, by=Actor(user=world.derm_x))
    login(client, world.derm_y)
    url = reverse("messaging:thread", args=[referral.public_id, "consultation"])
    assert client.get(url).status_code == 404  # not yet invited
    services.invite_consultant(
        referral=referral, colleague=world.derm_y, by=Actor(user=world.derm_x)
    )
    assert client.get(url).status_code == 200
    assert client.get(reverse("review:case", args=[referral.public_id])).status_code == 200
    queue = client.get(reverse("review:queue") + "?tab=consultation").content.decode()
    assert str(referral.number) in queue
    # A consultant reads and advises but does not take or answer the case.
    assert client.post(reverse("review:take", args=[referral.public_id])).status_code == 404
    assert post(client, referral, "consultation", "Ser ut som ett Clark-nevus.").status_code == 200
    assert services.unread_messages(world.derm_x).count() == 1


def test_outsiders_reach_no_thread(client: Client, world: World) -> None:
    referral = send(world)
    for persona in ("gp_b", "derm_y", "admin_a"):
        login(client, getattr(world, persona))
        for channel in ("clinic", "consultation"):
            url = reverse("messaging:thread", args=[referral.public_id, channel])
            assert client.get(url).status_code == 404
            assert post(client, referral, channel, "hej").status_code == 404
    assert Message.objects.count() == 0


def test_double_submit_stores_one_message(client: Client, world: World) -> None:
    referral = send(world)
    login(client, world.gp_a)
    key = str(uuid.uuid4())
    post(client, referral, "clinic", "En gång", key)
    post(client, referral, "clinic", "En gång", key)
    assert Message.objects.count() == 1


def test_empty_message_is_refused(client: Client, world: World) -> None:
    referral = send(world)
    login(client, world.gp_a)
    assert post(client, referral, "clinic", "   ").status_code == 422
    assert Message.objects.count() == 0


def test_unread_messages_show_in_the_navigation_and_inbox(client: Client, world: World) -> None:
    referral = send(world)
    review_services.take_case(referral=referral, by=Actor(user=world.derm_x))
    services.post_message(
        referral=referral, channel="clinic", body="Hur stor är den?", by=Actor(user=world.derm_x)
    )
    login(client, world.gp_a)
    start = client.get(reverse("web:start"))
    assert start.context["nav_unread_messages"] == 1
    inbox = client.get(reverse("messaging:inbox")).content.decode()
    assert str(referral.number) in inbox
    client.get(reverse("messaging:thread", args=[referral.public_id, "clinic"]))
    assert client.get(reverse("web:start")).context["nav_unread_messages"] == 0
