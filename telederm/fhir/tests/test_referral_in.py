"""A referral in through FHIR is the same referral the web wizard makes, made by the same services."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest

from telederm.audit.models import Action, AuditEvent
from telederm.fhir import codes
from telederm.fhir.models import FhirReferralLink
from telederm.fhir.tests.conftest import (
    EHR,
    PATIENT,
    SITE,
    ApiWorld,
    body_site,
    media,
    post,
    service_request,
    transaction_bundle,
)
from telederm.images.models import ImageKind, LesionImage
from telederm.referrals.models import Referral, ReferralEvent, ReferralStatus
from telederm.referrals.tests.helpers import send

pytestmark = pytest.mark.django_db


def _actions(referral: Referral) -> list[str]:
    return sorted(
        AuditEvent.objects.filter(target_id=str(referral.public_id))
        .exclude(action__startswith="fhir.")
        .values_list("action", flat=True)
    )


def test_service_request_with_contained_resources_creates_a_sent_referral(
    client: Client, api: ApiWorld, media_files: Callable[[], list[Path]]
) -> None:
    world = api.world
    response = post(
        client,
        "/fhir/ServiceRequest",
        service_request(gp=world.gp_a, clinic=world.clinic_a),
        api.token_a,
    )

    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    returned = ServiceRequest.model_validate_json(response.content)
    referral = Referral.objects.get()
    assert returned.id == str(referral.public_id)
    assert response["Location"].endswith(f"/fhir/ServiceRequest/{referral.public_id}")
    assert referral.status == ReferralStatus.SENT
    assert referral.number
    assert referral.deadline
    assert referral.review_unit == world.unit_x
    assert referral.clinic == world.clinic_a
    assert referral.author == world.gp_a
    assert referral.patient is not None
    assert referral.patient.personal_number == PATIENT
    assert referral.patient.name == "Tolvan Tolvansson"
    assert referral.question == "Är detta ett melanom?"
    assert referral.suspicion == "uncertain"
    assert (referral.duration, referral.itch, referral.bleeding) == ("1-6m", True, False)
    assert referral.free_text == "Ny sedan i somras."
    (link,) = referral.lesion_links.select_related("lesion")
    assert (link.lesion.body_site, link.lesion.laterality) == (SITE, "L")
    images = list(LesionImage.objects.filter(referral_lesion=link))
    assert sorted(image.kind for image in images) == [ImageKind.DERMOSCOPIC, ImageKind.OVERVIEW]
    for image in images:
        stored = Path(image.original.path).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == image.sha256
        assert Path(image.thumbnail.path).exists()
        assert Path(image.screen.path).exists()
    assert len(media_files()) == 6
    assert ReferralEvent.objects.filter(referral=referral, kind="sent").count() == 1
    assert returned.status == "active"
    assert {(i.system, i.value) for i in returned.identifier or []} == {
        (EHR, "R-1"),
        (codes.REFERRAL_NUMBER, referral.number),
    }


def test_a_fhir_referral_has_the_shape_and_audit_trail_of_a_ui_referral(
    client: Client, api: ApiWorld
) -> None:
    world = api.world
    ui = send(world)
    post(
        client,
        "/fhir/ServiceRequest",
        service_request(gp=world.gp_a, clinic=world.clinic_a),
        api.token_a,
    )
    fhir = Referral.objects.exclude(pk=ui.pk).get()

    assert _actions(fhir) == _actions(ui)
    for referral in (ui, fhir):
        referral.refresh_from_db()
    same = ("status", "clinic_id", "author_id", "patient_id", "review_unit_id", "deadline")
    assert [getattr(fhir, name) for name in same] == [getattr(ui, name) for name in same]
    assert fhir.lesion_links.count() == ui.lesion_links.count() == 1
    kinds = sorted(
        LesionImage.objects.filter(referral_lesion__referral=fhir).values_list("kind", flat=True)
    )
    assert kinds == sorted(
        LesionImage.objects.filter(referral_lesion__referral=ui).values_list("kind", flat=True)
    )
    # The services wrote their events as the GP, with the client beside them.
    sent = AuditEvent.objects.get(action=Action.REFERRAL_SENT, target_id=str(fhir.public_id))
    assert sent.actor_id == world.gp_a.pk
    assert sent.actor_name == f"{world.gp_a.full_name} via EHR A"
    assert sent.detail["api_client"] == "EHR A"


def test_transaction_bundle_with_binaries_creates_the_referral(
    client: Client, api: ApiWorld
) -> None:
    world = api.world
    response = post(
        client, "/fhir/", transaction_bundle(gp=world.gp_a, clinic=world.clinic_a), api.token_a
    )

    assert response.status_code == 200, response.content
    reply = Bundle.model_validate_json(response.content)
    assert reply.type == "transaction-response"
    statuses = [entry.response.status for entry in reply.entry or [] if entry.response]
    assert statuses == ["200 OK"] * 3 + ["201 Created"] * 5
    referral = Referral.objects.get()
    assert reply.entry
    assert reply.entry[3].response
    assert reply.entry[3].response.location == f"ServiceRequest/{referral.public_id}"
    assert referral.status == ReferralStatus.SENT
    assert LesionImage.objects.filter(referral_lesion__referral=referral).count() == 2


def test_transaction_bundle_with_inline_media_and_several_lesions(
    client: Client, api: ApiWorld
) -> None:
    world = api.world
    request = service_request(gp=world.gp_a, clinic=world.clinic_a, images=[])
    request["bodySite"] = [body_site(), body_site("upper_back", None, "Nevus vid skulderbladet")]
    images = [
        media("overview", seed=2, bodySite=body_site()),
        media("dermoscopic", seed=3, bodySite=body_site()),
        media("overview", seed=4, bodySite=body_site("upper_back", None)),
        media("dermoscopic", seed=5, bodySite=body_site("upper_back", None)),
    ]
    response = post(
        client,
        "/fhir/ServiceRequest",
        {
            **request,
            "contained": request["contained"]
            + [{**image, "id": f"p{n}"} for n, image in enumerate(images)],
            "supportingInfo": request["supportingInfo"]
            + [{"reference": f"#p{n}"} for n in range(4)],
        },
        api.token_a,
    )

    assert response.status_code == 201, response.content
    referral = Referral.objects.get()
    lesions = [link.lesion for link in referral.lesion_links.select_related("lesion")]
    assert [(lesion.body_site, lesion.laterality, lesion.label) for lesion in lesions] == [
        (SITE, "L", ""),
        ("upper_back", "U", "Nevus vid skulderbladet"),
    ]
    for link in referral.lesion_links.all():
        assert sorted(link.images.values_list("kind", flat=True)) == ["dermoscopic", "overview"]


def test_snomed_code_alone_is_enough_where_it_names_one_site(client: Client, api: ApiWorld) -> None:
    world = api.world
    request = service_request(gp=world.gp_a, clinic=world.clinic_a)
    request["bodySite"] = [{"coding": [{"system": codes.SNOMED, "code": "41695006"}]}]  # scalp

    response = post(client, "/fhir/ServiceRequest", request, api.token_a)

    assert response.status_code == 201, response.content
    assert Referral.objects.get().lesion_links.get().lesion.body_site == "scalp"


def test_protected_identity_keeps_no_name(client: Client, api: ApiWorld) -> None:
    world = api.world
    request = service_request(gp=world.gp_a, clinic=world.clinic_a)
    request["contained"][0]["meta"] = {"security": [{"system": codes.CONFIDENTIALITY, "code": "R"}]}

    assert post(client, "/fhir/ServiceRequest", request, api.token_a).status_code == 201

    patient = Referral.objects.get().patient
    assert patient is not None
    assert patient.protected_identity
    assert patient.name == ""


def test_samordningsnummer_is_accepted_with_its_own_system(client: Client, api: ApiWorld) -> None:
    world = api.world
    request = service_request(
        gp=world.gp_a,
        clinic=world.clinic_a,
        patient="197010632391",
        patient_system=codes.SAMORDNINGSNUMMER,
    )

    response = post(client, "/fhir/ServiceRequest", request, api.token_a)

    assert response.status_code == 201, response.content
    patient = Referral.objects.get().patient
    assert patient is not None
    assert patient.coordination_number


def test_a_client_identifier_is_stored_per_client(client: Client, api: ApiWorld) -> None:
    world = api.world
    post(
        client,
        "/fhir/ServiceRequest",
        service_request(gp=world.gp_a, clinic=world.clinic_a),
        api.token_a,
    )

    link = FhirReferralLink.objects.get()
    assert (link.client, link.system, link.value) == (api.client_a, EHR, "R-1")
