"""Bad input gets a precise OperationOutcome with a 4xx status, and leaves nothing behind."""

from __future__ import annotations

import copy
import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.operationoutcome import OperationOutcome
from PIL import Image

from telederm.accounts.models import Licence, Membership, Role
from telederm.accounts.tests.factories import ClinicFactory, member
from telederm.audit.models import Action, AuditEvent
from telederm.fhir import codes
from telederm.fhir.tests.conftest import (
    ApiWorld,
    bearer,
    body_site,
    media,
    post,
    service_request,
    transaction_bundle,
)
from telederm.images.models import LesionImage
from telederm.referrals.models import Lesion, Patient, Referral
from telederm.testing import photo

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


def _outcome(response: Any, status: int) -> OperationOutcome:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return OperationOutcome.model_validate_json(response.content)


def _text(outcome: OperationOutcome) -> str:
    return " | ".join(issue.diagnostics or "" for issue in outcome.issue)


def _nothing_created(media_files: Callable[[], list[Path]]) -> None:
    assert not Referral.objects.exists()
    assert not Lesion.objects.exists()
    assert not LesionImage.objects.exists()
    assert media_files() == []


@pytest.fixture
def request_a(api: ApiWorld) -> dict[str, Any]:
    return service_request(gp=api.world.gp_a, clinic=api.world.clinic_a)


def test_gp_without_a_licence_gets_422_and_nothing_is_left_behind(
    client: Client, api: ApiWorld, request_a: dict[str, Any], media_files: Callable[[], list[Path]]
) -> None:
    Licence.objects.filter(user=api.world.gp_a).delete()

    outcome = _outcome(post(client, "/fhir/ServiceRequest", request_a, api.token_a, EN), 422)

    assert "licence" in _text(outcome)
    # The photos were stored (and the licence checked last, as in the wizard): all gone again.
    _nothing_created(media_files)
    assert not Patient.objects.exists()
    failed = AuditEvent.objects.get(action=Action.FHIR_WRITE)
    assert not failed.success
    assert failed.actor_name == "EHR A"


def test_unknown_clinic_and_a_clinic_of_another_client_look_the_same(
    client: Client, api: ApiWorld, media_files: Callable[[], list[Path]]
) -> None:
    world = api.world
    unknown = service_request(gp=world.gp_a, clinic=world.clinic_a)
    unknown["contained"][1]["organization"]["identifier"]["value"] = "SE2321000016-NONE"
    foreign = service_request(gp=world.gp_b, clinic=world.clinic_b)

    first = _outcome(post(client, "/fhir/ServiceRequest", unknown, api.token_a, EN), 422)
    second = _outcome(post(client, "/fhir/ServiceRequest", foreign, api.token_a, EN), 422)

    assert _text(first).startswith("Unknown clinic")
    assert _text(second).startswith("Unknown clinic")
    assert first.issue[0].code == second.issue[0].code == "not-found"
    _nothing_created(media_files)


def test_practitioner_who_is_not_a_gp_of_the_clinic_is_refused(
    client: Client, api: ApiWorld, media_files: Callable[[], list[Path]]
) -> None:
    world = api.world
    body = service_request(gp=world.gp_b, clinic=world.clinic_a)

    outcome = _outcome(post(client, "/fhir/ServiceRequest", body, api.token_a, EN), 422)

    assert "is not an active GP" in _text(outcome)
    _nothing_created(media_files)


def test_gp_whose_membership_has_ended_is_refused(
    client: Client, api: ApiWorld, request_a: dict[str, Any]
) -> None:
    from django.utils import timezone

    Membership.objects.filter(user=api.world.gp_a).update(ended_at=timezone.now())

    _outcome(post(client, "/fhir/ServiceRequest", request_a, api.token_a), 422)
    assert not Referral.objects.exists()


def test_clinic_where_telederma_is_not_active_is_refused(client: Client, api: ApiWorld) -> None:
    world = api.world
    inactive = ClinicFactory.create(region=world.region, telederma_active_from=None)
    api.client_a.organisations.add(inactive)
    gp = member(inactive, Role.GP)
    body = service_request(gp=gp, clinic=inactive)

    outcome = _outcome(post(client, "/fhir/ServiceRequest", body, api.token_a, EN), 422)

    assert "not active" in _text(outcome)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "structure"),
        ("[1, 2, 3]", 400, "structure"),
        ('{"resourceType": "Patient"}', 400, "invalid"),
        ('{"resourceType": "ServiceRequest", "status": "active"}', 400, "required"),
        ('{"resourceType": "ServiceRequest", "nonsense": 1}', 400, "structure"),
        ("\xff\xfe\x00", 400, "structure"),
        ("[" * 100000 + "]" * 100000, 400, "structure"),
    ],
)
def test_malformed_bodies_are_400(
    client: Client, api: ApiWorld, body: str, status: int, code: str
) -> None:
    outcome = _outcome(post(client, "/fhir/ServiceRequest", body, api.token_a), status)
    assert code in {issue.code for issue in outcome.issue}
    assert not Referral.objects.exists()


def test_wrong_resource_type_says_what_was_expected(client: Client, api: ApiWorld) -> None:
    outcome = _outcome(
        post(client, "/fhir/ServiceRequest", {"resourceType": "Patient"}, api.token_a, EN), 400
    )
    assert _text(outcome) == 'Expected a ServiceRequest resource, got "Patient".'
    assert outcome.issue[0].expression == ["resourceType"]


def test_validation_errors_point_at_the_element(
    client: Client, api: ApiWorld, request_a: dict[str, Any]
) -> None:
    request_a["authoredOn"] = "yesterday"
    outcome = _outcome(post(client, "/fhir/ServiceRequest", request_a, api.token_a), 400)
    assert outcome.issue[0].expression == ["ServiceRequest.authoredOn"]


def test_a_bundle_that_is_not_a_transaction_is_refused(client: Client, api: ApiWorld) -> None:
    body = {"resourceType": "Bundle", "type": "collection", "entry": []}
    outcome = _outcome(post(client, "/fhir/", body, api.token_a), 422)
    assert outcome.issue[0].expression == ["Bundle.type"]


def test_an_unknown_resource_type_inside_is_refused(
    client: Client, api: ApiWorld, request_a: dict[str, Any]
) -> None:
    request_a["contained"].append({"resourceType": "Condition", "id": "c"})
    outcome = _outcome(post(client, "/fhir/ServiceRequest", request_a, api.token_a), 422)
    assert outcome.issue[0].code == "not-supported"
    request_a["contained"][-1] = {"resourceType": "NoSuchThing", "id": "c"}
    _outcome(post(client, "/fhir/ServiceRequest", request_a, api.token_a), 422)


def test_json_of_another_content_type_is_415(client: Client, api: ApiWorld) -> None:
    response = client.post(
        "/fhir/ServiceRequest",
        "a=b",
        content_type="application/x-www-form-urlencoded",
        headers=bearer(api.token_a),
    )
    assert _outcome(response, 415).issue[0].code == "not-supported"


def test_too_large_body_is_413(client: Client, api: ApiWorld, settings: Any) -> None:
    settings.TELEDERM_FHIR_MAX_BODY_BYTES = 1024 * 1024
    body = '{"resourceType": "ServiceRequest", "x": "' + "a" * 1024 * 1024 + '"}'
    assert _outcome(post(client, "/fhir/ServiceRequest", body, api.token_a), 413)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r.update(
                contained=[item for item in r["contained"] if item["id"] != "photo0"],
                supportingInfo=[
                    item for item in r["supportingInfo"] if item["reference"] != "#photo0"
                ],
            ),
            "needs an overview photo",
        ),
        (lambda r: r["contained"][2]["content"].pop("data"), "The photo is missing"),
        (
            lambda r: r["contained"][2].update(modality=None),
            "overview or a dermoscopic photo",
        ),
        (
            lambda r: r["contained"][2].update(content={"url": "https://example.org/x.jpg"}),
            "neither a contained resource",
        ),
        (lambda r: r["contained"][0]["identifier"][0].update(value="191212121213"), "check digit"),
        (lambda r: r["contained"][0]["identifier"][0].update(value="19121212"), "12 digits"),
        (
            lambda r: r["contained"][0]["identifier"][0].update(system=codes.SAMORDNINGSNUMMER),
            "use identifier system",
        ),
        (lambda r: r["contained"][0].update(identifier=[]), "needs a personnummer"),
        (lambda r: r.update(bodySite=[]), "at least one lesion"),
        (lambda r: r.update(bodySite=[body_site(side=None)]), "which side"),
        (lambda r: r.update(bodySite=[body_site("elbow_tip")]), "Unknown body site"),
        (
            lambda r: r.update(
                bodySite=[{"coding": [{"system": codes.SNOMED, "code": "45048000"}]}]
            ),
            "covers several sites",
        ),
        (lambda r: r.update(reasonCode=[]), "Write your question"),
        (
            lambda r: r.update(reasonCode=[{"coding": [{"system": codes.SUSPICION, "code": "x"}]}]),
            "Unknown suspicion",
        ),
        (lambda r: r.update(requester=None), "Say who sends the referral"),
        (lambda r: r.update(status="draft"), "status active"),
        (
            lambda r: r["contained"][-1].update(valueBoolean=None, valueString="ja"),
            "needs valueBoolean",
        ),
        (lambda r: r["contained"][2].pop("extension"), "quality warnings"),
    ],
)
def test_business_rule_violations_are_422_with_a_useful_message(
    client: Client,
    api: ApiWorld,
    request_a: dict[str, Any],
    media_files: Callable[[], list[Path]],
    change: Callable[[dict[str, Any]], Any],
    message: str,
) -> None:
    body = copy.deepcopy(request_a)
    change(body)
    body = _drop_none(body)

    outcome = _outcome(post(client, "/fhir/ServiceRequest", body, api.token_a, EN), 422)

    assert message in _text(outcome)
    _nothing_created(media_files)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_none(item) for item in value]
    return value


def _png_bomb() -> bytes:
    """A tiny PNG that claims 100 000 × 100 000 pixels."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + end


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 400), (200, 150, 120)).save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param(b"<html><script>alert(1)</script></html>", id="html"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"/>', id="svg"),
        pytest.param(photo("dermoscopic")[:2000], id="truncated-jpeg"),
        pytest.param(_png_bomb(), id="png-bomb"),
        pytest.param(_gif(), id="gif"),
        pytest.param(b"\xff\xd8\xff" + bytes(range(256)) * 40, id="fake-jpeg"),
        pytest.param(b"", id="empty"),
    ],
)
def test_hostile_image_bytes_are_refused(
    client: Client,
    api: ApiWorld,
    request_a: dict[str, Any],
    media_files: Callable[[], list[Path]],
    hostile: bytes,
) -> None:
    request_a["contained"][3] = {**media("dermoscopic", seed=1, data=hostile), "id": "photo1"}

    outcome = _outcome(post(client, "/fhir/ServiceRequest", request_a, api.token_a), 422)

    assert str((outcome.issue[0].expression or [""])[0]).startswith("ServiceRequest.contained[3]")
    _nothing_created(media_files)


def test_nothing_under_fhir_ever_answers_with_html(client: Client, api: ApiWorld) -> None:
    for path in ("/fhir/Patient", "/fhir/ServiceRequest/x/_history/1", "/fhir/metadata/"):
        response = client.get(path, headers=bearer(api.token_a))
        assert _outcome(response, 404).issue[0].code == "not-supported"
    response = client.delete("/fhir/ServiceRequest", headers=bearer(api.token_a))
    assert _outcome(response, 405)
    assert response["Allow"] == "GET, POST"


def test_a_bundle_photo_based_on_something_else_is_refused(
    client: Client, api: ApiWorld, media_files: Callable[[], list[Path]]
) -> None:
    bundle = transaction_bundle(gp=api.world.gp_a, clinic=api.world.clinic_a)
    patient_url = bundle["entry"][0]["fullUrl"]
    bundle["entry"][-1]["resource"]["basedOn"] = [{"reference": patient_url}]

    outcome = _outcome(post(client, "/fhir/", bundle, api.token_a, EN), 422)

    assert "Media.basedOn" in _text(outcome)
    assert outcome.issue[0].expression == ["Bundle.entry[7].resource.basedOn[0]"]
    _nothing_created(media_files)


def test_a_bundle_without_exactly_one_service_request_is_refused(
    client: Client, api: ApiWorld
) -> None:
    bundle = transaction_bundle(gp=api.world.gp_a, clinic=api.world.clinic_a)
    bundle["entry"] = [
        entry for entry in bundle["entry"] if entry["request"]["url"] != "ServiceRequest"
    ]
    assert "exactly one ServiceRequest" in _text(
        _outcome(post(client, "/fhir/", bundle, api.token_a, EN), 422)
    )
    bundle = transaction_bundle(gp=api.world.gp_a, clinic=api.world.clinic_a)
    bundle["entry"][0]["request"]["method"] = "PUT"
    assert _outcome(post(client, "/fhir/", bundle, api.token_a), 422).issue[0].expression == [
        "Bundle.entry[0]"
    ]
