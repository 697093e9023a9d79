"""Clients of the API, referral payloads in the documented shape, and answered referrals."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone

from telederm.accounts.models import Organisation, Role, User
from telederm.audit.services import Actor
from telederm.fhir import codes
from telederm.fhir.auth import create_api_client
from telederm.fhir.models import ApiClient, FhirReferralLink, Scope
from telederm.messaging.models import Channel, Message
from telederm.referrals.models import Patient, Referral, ReferralStatus
from telederm.review import services as review
from telederm.review.models import Answer
from telederm.testing import World, photo

EHR = "urn:oid:1.2.752.0.99.1"  # the client's own identifier system in these tests
PATIENT = "191212121212"
SITE = "forearm_back"


@dataclass
class ApiWorld:
    world: World
    client_a: ApiClient
    token_a: str
    client_b: ApiClient
    token_b: str


@pytest.fixture(autouse=True)
def _media(settings: LazySettings, tmp_path: Path) -> Path:
    """Each test stores photos in its own folder, so tests can see every file written."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def media_files(_media: Path) -> Callable[[], list[Path]]:
    return lambda: sorted(path for path in _media.rglob("*") if path.is_file())


@pytest.fixture
def api(world: World) -> ApiWorld:
    client_a, token_a = create_api_client(
        name="EHR A", organisations=[world.clinic_a], scopes=Scope.values, by=Actor.system()
    )
    client_b, token_b = create_api_client(
        name="EHR B", organisations=[world.clinic_b], scopes=Scope.values, by=Actor.system()
    )
    return ApiWorld(world, client_a, token_a, client_b, token_b)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(
    client: Client, path: str, body: Any, token: str, headers: dict[str, str] | None = None
) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        path,
        data,
        content_type="application/fhir+json",
        headers={**bearer(token), **(headers or {})},
    )


def get(client: Client, path: str, token: str, **params: str) -> Any:
    return client.get(path, params, headers=bearer(token))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def media(kind: str, *, seed: int, data: bytes | None = None, **extra: Any) -> dict[str, Any]:
    raw = data if data is not None else photo(kind, seed=seed)
    modality = codes.KIND_MODALITY[kind]
    resource: dict[str, Any] = {
        "resourceType": "Media",
        "status": "completed",
        "type": {"coding": [{"system": codes.MEDIA_TYPE, "code": "image"}]},
        "modality": {"coding": [{"system": codes.DICOM, "code": modality}]},
        "content": {"contentType": "image/jpeg", "data": b64(raw)},
        # The test photos are small: accept their quality warnings like a GP choosing "use anyway".
        "extension": [{"url": codes.EXT_ACCEPT_WARNINGS, "valueBoolean": True}],
    }
    resource.update(extra)
    return resource


def body_site(site: str = SITE, side: str | None = "L", text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": codes.BODY_SITE, "code": site}]}
    if side:
        concept["extension"] = [
            {
                "url": codes.EXT_LATERALITY,
                "valueCoding": {"system": codes.SNOMED, "code": codes.LATERALITY_SNOMED[side]},
            }
        ]
    if text:
        concept["text"] = text
    return concept


def service_request(
    *,
    gp: User,
    clinic: Organisation,
    identifier: str | None = "R-1",
    patient: str = PATIENT,
    patient_system: str = codes.PERSONNUMMER,
    images: list[dict[str, Any]] | None = None,
    history: bool = True,
) -> dict[str, Any]:
    """A ServiceRequest with everything contained (the POST /fhir/ServiceRequest shape)."""
    images = [media("overview", seed=2), media("dermoscopic", seed=3)] if images is None else images
    contained: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": "patient",
            "identifier": [{"system": patient_system, "value": patient}],
            "name": [{"given": ["Tolvan"], "family": "Tolvansson"}],
        },
        {
            "resourceType": "PractitionerRole",
            "id": "requester",
            "practitioner": {"identifier": {"system": codes.HSA_ID, "value": gp.hsa_id}},
            "organization": {"identifier": {"system": codes.HSA_ID, "value": clinic.hsa_id}},
        },
    ]
    supporting = []
    for n, image in enumerate(images):
        contained.append({**image, "id": f"photo{n}"})
        supporting.append({"reference": f"#photo{n}"})
    if history:
        contained += [
            {
                "resourceType": "Observation",
                "id": "duration",
                "status": "final",
                "code": {"coding": [{"system": codes.HISTORY, "code": "duration"}]},
                "valueCodeableConcept": {
                    "coding": [{"system": codes.HISTORY_CODED["duration"], "code": "1-6m"}]
                },
            },
            {
                "resourceType": "Observation",
                "id": "itch",
                "status": "final",
                "code": {"coding": [{"system": codes.HISTORY, "code": "itch"}]},
                "valueBoolean": True,
            },
        ]
        supporting += [{"reference": "#duration"}, {"reference": "#itch"}]
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "contained": contained,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "#patient"},
        "requester": {"reference": "#requester"},
        "reasonCode": [
            {"text": "Är detta ett melanom?"},
            {"coding": [{"system": codes.SUSPICION, "code": "uncertain"}]},
        ],
        "bodySite": [body_site()],
        "note": [{"text": "Ny sedan i somras."}],
        "supportingInfo": supporting,
    }
    if identifier:
        resource["identifier"] = [{"system": EHR, "value": identifier}]
    return resource


def transaction_bundle(
    *, gp: User, clinic: Organisation, identifier: str | None = "R-1", binary: bool = True
) -> dict[str, Any]:
    """The same referral as a transaction Bundle: separate entries, photos as Binary."""
    patient_url = "urn:uuid:7b0e4b8e-1d1a-4a52-9f1e-000000000001"
    gp_url = "urn:uuid:7b0e4b8e-1d1a-4a52-9f1e-000000000002"
    clinic_url = "urn:uuid:7b0e4b8e-1d1a-4a52-9f1e-000000000003"
    request_url = "urn:uuid:7b0e4b8e-1d1a-4a52-9f1e-000000000004"
    request = service_request(gp=gp, clinic=clinic, identifier=identifier, images=[])
    request["contained"] = [item for item in request["contained"] if item["id"] != "patient"]
    request["contained"] = [item for item in request["contained"] if item["id"] != "requester"]
    request["supportingInfo"] = [{"reference": "#duration"}, {"reference": "#itch"}]
    request["subject"] = {"reference": patient_url}
    request["requester"] = {"reference": gp_url}
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": codes.PERSONNUMMER, "value": PATIENT}],
            },
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "fullUrl": gp_url,
            "resource": {
                "resourceType": "Practitioner",
                "identifier": [{"system": codes.HSA_ID, "value": gp.hsa_id}],
            },
            "request": {"method": "POST", "url": "Practitioner"},
        },
        {
            "fullUrl": clinic_url,
            "resource": {
                "resourceType": "Organization",
                "identifier": [{"system": codes.HSA_ID, "value": clinic.hsa_id}],
            },
            "request": {"method": "POST", "url": "Organization"},
        },
        {
            "fullUrl": request_url,
            "resource": request,
            "request": {"method": "POST", "url": "ServiceRequest"},
        },
    ]
    for n, (kind, seed) in enumerate((("overview", 2), ("dermoscopic", 3))):
        image = media(kind, seed=seed, basedOn=[{"reference": request_url}])
        if binary:
            binary_url = f"urn:uuid:7b0e4b8e-1d1a-4a52-9f1e-00000000010{n}"
            entries.append(
                {
                    "fullUrl": binary_url,
                    "resource": {
                        "resourceType": "Binary",
                        "contentType": "image/jpeg",
                        "data": image["content"]["data"],
                    },
                    "request": {"method": "POST", "url": "Binary"},
                }
            )
            image["content"] = {"contentType": "image/jpeg", "url": binary_url}
        entries.append({"resource": image, "request": {"method": "POST", "url": "Media"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def answer(world: World, referral: Referral, **fields: Any) -> Any:
    """A real answer by the review unit's dermatologist (take the case, then answer it)."""
    derm = Actor(user=world.derm_x)
    review.take_case(referral=referral, by=derm)
    values = {
        "diagnosis": "invasive_melanoma",
        "certainty": "probable",
        "action": "svf",
        "text_to_gp": "Misstänkt melanom: remiss enligt SVF.",
        **fields,
    }
    return review.send_answer(referral=referral, by=derm, **values)


@pytest.fixture
def routed(world: World) -> World:
    """Clinic A's referrals go to review unit X, where derm_x works."""
    Organisation.objects.filter(pk=world.clinic_a.pk).update(default_review_unit=world.unit_x)
    Organisation.objects.filter(pk=world.clinic_b.pk).update(default_review_unit=world.unit_x)
    world.clinic_a.refresh_from_db()
    world.clinic_b.refresh_from_db()
    return world


@dataclass(frozen=True)
class ClinicCase:
    """One answered referral of clinic A with a message: what another clinic must never see.

    ``ids``: resource type → the id of clinic A's resource; ``searches``: (resource type,
    search parameter) → values that find it; ``secrets``: strings of its data that must never
    reach another clinic's client.
    """

    ids: dict[str, str]
    searches: dict[tuple[str, str], tuple[str, ...]]
    secrets: tuple[str, ...]


@pytest.fixture
def clinic_a_case(api: ApiWorld) -> ClinicCase:
    """Made directly, not through the services (access is all that matters here; the services
    that make real ones are tested elsewhere)."""
    world = api.world
    now = timezone.now()
    patient = Patient.objects.create(
        personal_number=PATIENT,
        birth_date=now.date().replace(year=1912),
        sex="male",
        name="Tolvan Hemligsson",
    )
    referral = Referral.objects.create(
        clinic=world.clinic_a,
        author=world.gp_a,
        patient=patient,
        status=ReferralStatus.ANSWERED,
        number="TD26-999999",
        sent_at=now,
        deadline=now.date() + timedelta(days=7),
        review_unit=world.unit_x,
        question="Hemlig fråga om naevus?",
    )
    FhirReferralLink.objects.create(
        client=api.client_a, system=EHR, value="R-A-SECRET", referral=referral
    )
    answer = Answer.objects.create(
        referral=referral,
        diagnosis="benign_naevus",
        icd10="D22.9",
        certainty="certain",
        action="none",
        text_to_gp="Godartat hemligt svar.",
        author=world.derm_x,
        sent_at=now,
    )
    message = Message.objects.create(
        referral=referral,
        channel=Channel.CLINIC,
        author=world.gp_a,
        author_role=Role.GP,
        body="Hemligt meddelande",
        client_key=uuid.uuid4(),
    )
    based_on = (f"ServiceRequest/{referral.public_id}", str(referral.public_id))
    patient_ids = (PATIENT, f"{codes.PERSONNUMMER}|{PATIENT}")
    return ClinicCase(
        ids={
            "ServiceRequest": str(referral.public_id),
            "DiagnosticReport": str(answer.public_id),
            "Communication": str(message.public_id),
        },
        searches={
            ("ServiceRequest", "identifier"): (
                "TD26-999999",
                f"{codes.REFERRAL_NUMBER}|TD26-999999",
                f"{EHR}|R-A-SECRET",
                "R-A-SECRET",
            ),
            ("ServiceRequest", "patient.identifier"): patient_ids,
            ("DiagnosticReport", "based-on"): based_on,
            ("DiagnosticReport", "patient.identifier"): patient_ids,
            ("Communication", "based-on"): based_on,
        },
        secrets=(
            str(referral.public_id),
            str(answer.public_id),
            str(message.public_id),
            PATIENT,
            "TD26-999999",
            "R-A-SECRET",
            "Hemligsson",
            "Hemlig fråga",
            "hemligt svar",
            "Hemligt meddelande",
        ),
    )
