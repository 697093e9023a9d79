"""Messages as Communication: the clinic thread only, written through the messaging service."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.communication import Communication

from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.fhir import codes
from telederm.fhir.tests.conftest import EHR, ApiWorld, get, post
from telederm.messaging.models import Channel, Message
from telederm.messaging.services import post_message
from telederm.referrals.models import Referral
from telederm.referrals.tests.helpers import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(api: ApiWorld) -> Referral:
    return send(api.world)


def _message(
    referral: Referral, gp_hsa: str, text: str = "Patienten undrar.", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "identifier": [{"system": EHR, "value": "M-1"}],
        "basedOn": [{"reference": f"ServiceRequest/{referral.public_id}"}],
        "sender": {"identifier": {"system": codes.HSA_ID, "value": gp_hsa}},
        "payload": [{"contentString": text}],
        **extra,
    }


def _communications(response: Any) -> list[Communication]:
    assert response.status_code == 200, response.content
    bundle = Bundle.model_validate_json(response.content)
    return [entry.resource for entry in bundle.entry or []]  # type: ignore[misc]


def test_clinic_thread_is_read_and_the_consultation_never(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    world = api.world
    post_message(
        referral=referral, channel=Channel.CLINIC, body="Hur länge?", by=Actor(user=world.derm_x)
    )
    post_message(
        referral=referral,
        channel=Channel.CONSULTATION,
        body="Internt: vad tror du?",
        by=Actor(user=world.derm_x),
    )

    found = _communications(
        get(
            client,
            "/fhir/Communication",
            api.token_a,
            **{"based-on": f"ServiceRequest/{referral.public_id}"},
        )
    )

    assert [item.payload[0].contentString for item in found if item.payload] == ["Hur länge?"]
    (message,) = found
    assert message.sender
    assert message.sender.identifier
    assert message.sender.identifier.value == world.derm_x.hsa_id
    assert message.recipient
    assert message.recipient[0].display == world.clinic_a.name
    consultation = Message.objects.get(channel=Channel.CONSULTATION)
    assert (
        get(client, f"/fhir/Communication/{consultation.public_id}", api.token_a).status_code == 404
    )
    reads = AuditEvent.objects.filter(action=Action.FHIR_READ, actor_name="EHR A")
    assert reads.get().patient_id == "191212121212"


def test_create_is_idempotent_by_identifier(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    body = _message(referral, api.world.gp_a.hsa_id)

    first = post(client, "/fhir/Communication", body, api.token_a)
    again = post(client, "/fhir/Communication", body, api.token_a)

    assert (first.status_code, again.status_code) == (201, 200)
    message = Message.objects.get()
    assert (message.channel, message.author, message.body) == (
        Channel.CLINIC,
        api.world.gp_a,
        "Patienten undrar.",
    )
    created = Communication.model_validate_json(first.content)
    assert created.id == str(message.public_id)
    assert created.identifier
    assert (created.identifier[0].system, created.identifier[0].value) == (EHR, "M-1")
    assert first["Location"].endswith(f"/fhir/Communication/{message.public_id}")
    sent = AuditEvent.objects.get(action=Action.MESSAGE_SENT)
    assert sent.actor_id == api.world.gp_a.pk
    assert sent.detail["api_client"] == "EHR A"


def test_another_identifier_is_another_message(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    post(client, "/fhir/Communication", _message(referral, api.world.gp_a.hsa_id), api.token_a)
    second = _message(referral, api.world.gp_a.hsa_id, identifier=[{"system": EHR, "value": "M-2"}])
    assert post(client, "/fhir/Communication", second, api.token_a).status_code == 201
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        (
            lambda body, api: body.update(
                sender={"identifier": {"system": codes.HSA_ID, "value": api.world.gp_b.hsa_id}}
            ),
            422,
            "may not write",
        ),
        (
            lambda body, api: body.update(
                sender={"identifier": {"system": codes.HSA_ID, "value": api.world.derm_y.hsa_id}}
            ),
            422,
            "may not write",
        ),
        (
            lambda body, api: body.update(
                sender={"identifier": {"system": codes.HSA_ID, "value": api.world.derm_x.hsa_id}}
            ),
            422,
            "may not write",
        ),
        (
            lambda body, api: body.update(payload=[{"contentString": "  "}]),
            422,
            "payload.contentString",
        ),
        (lambda body, api: body.update(payload=[{"contentString": "x" * 5001}]), 422, "too long"),
        (
            lambda body, api: body.update(basedOn=[{"reference": "ServiceRequest/nope"}]),
            422,
            "was not found",
        ),
        (lambda body, api: body.pop("sender"), 422, "Say who writes"),
        (
            lambda body, api: body.update(resourceType="ServiceRequest"),
            400,
            "Expected a Communication",
        ),
    ],
)
def test_create_refusals(
    client: Client, api: ApiWorld, referral: Referral, change: Any, status: int, text: str
) -> None:
    body = _message(referral, api.world.gp_a.hsa_id)
    change(body, api)

    response = post(client, "/fhir/Communication", body, api.token_a, {"Accept-Language": "en"})

    assert response.status_code == status, response.content
    assert text in response.json()["issue"][0]["diagnostics"]
    assert not Message.objects.exists()


def test_another_clients_referral_cannot_be_written_to_or_read(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    body = _message(referral, api.world.gp_a.hsa_id)
    assert post(client, "/fhir/Communication", body, api.token_b).status_code == 422
    assert not Message.objects.exists()
    post(client, "/fhir/Communication", body, api.token_a)
    search = {"based-on": f"ServiceRequest/{referral.public_id}"}
    assert _communications(get(client, "/fhir/Communication", api.token_b, **search)) == []
    message = Message.objects.get()
    assert get(client, f"/fhir/Communication/{message.public_id}", api.token_b).status_code == 404


def test_contained_practitioner_as_sender(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    body = _message(referral, api.world.gp_a.hsa_id)
    body["contained"] = [
        {
            "resourceType": "Practitioner",
            "id": "gp",
            "identifier": [{"system": codes.HSA_ID, "value": api.world.gp_a.hsa_id}],
        }
    ]
    body["sender"] = {"reference": "#gp"}
    assert post(client, "/fhir/Communication", body, api.token_a).status_code == 201
