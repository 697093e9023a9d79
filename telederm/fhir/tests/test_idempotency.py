"""A repeated POST of the same referral returns the first one, never a second referral."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client

from telederm.fhir.models import FhirReferralLink
from telederm.fhir.tests.conftest import EHR, ApiWorld, post, service_request, transaction_bundle
from telederm.images.models import LesionImage
from telederm.referrals.models import Referral

pytestmark = pytest.mark.django_db


def test_repeated_service_request_returns_the_existing_referral(
    client: Client, api: ApiWorld
) -> None:
    world = api.world
    body = service_request(gp=world.gp_a, clinic=world.clinic_a)
    first = post(client, "/fhir/ServiceRequest", body, api.token_a)
    again = post(client, "/fhir/ServiceRequest", body, api.token_a)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first["Location"] == again["Location"]
    assert Referral.objects.count() == 1
    assert LesionImage.objects.count() == 2


def test_if_none_exist_finds_the_referral_without_a_body_identifier(
    client: Client, api: ApiWorld
) -> None:
    world = api.world
    body = service_request(gp=world.gp_a, clinic=world.clinic_a, identifier=None)
    header = {"If-None-Exist": f"identifier={quote(EHR)}|R-77"}
    first = post(client, "/fhir/ServiceRequest", body, api.token_a, header)
    again = post(client, "/fhir/ServiceRequest", body, api.token_a, header)

    assert (first.status_code, again.status_code) == (201, 200)
    assert Referral.objects.count() == 1
    assert FhirReferralLink.objects.get().value == "R-77"


def test_conditional_create_as_query_string_also_works(client: Client, api: ApiWorld) -> None:
    world = api.world
    body = service_request(gp=world.gp_a, clinic=world.clinic_a, identifier=None)
    path = f"/fhir/ServiceRequest?identifier={quote(EHR)}|R-78"

    assert post(client, path, body, api.token_a).status_code == 201
    assert post(client, path, body, api.token_a).status_code == 200
    assert Referral.objects.count() == 1


def test_repeated_transaction_returns_the_existing_referral(client: Client, api: ApiWorld) -> None:
    world = api.world
    bundle = transaction_bundle(gp=world.gp_a, clinic=world.clinic_a)
    first = post(client, "/fhir/", bundle, api.token_a).json()
    again = post(client, "/fhir/", bundle, api.token_a).json()

    assert [entry["response"]["status"] for entry in again["entry"]] == ["200 OK"] * 8
    assert first["entry"][3]["response"]["location"] == again["entry"][3]["response"]["location"]
    assert Referral.objects.count() == 1


def test_transaction_if_none_exist_on_the_entry(client: Client, api: ApiWorld) -> None:
    world = api.world
    bundle = transaction_bundle(gp=world.gp_a, clinic=world.clinic_a, identifier=None)
    bundle["entry"][3]["request"]["ifNoneExist"] = f"identifier={EHR}|T-1"

    post(client, "/fhir/", bundle, api.token_a)
    post(client, "/fhir/", bundle, api.token_a)

    assert Referral.objects.count() == 1
    assert FhirReferralLink.objects.get().value == "T-1"


def test_the_same_identifier_from_another_client_is_another_referral(
    client: Client, api: ApiWorld
) -> None:
    world = api.world
    post(
        client,
        "/fhir/ServiceRequest",
        service_request(gp=world.gp_a, clinic=world.clinic_a),
        api.token_a,
    )
    response = post(
        client,
        "/fhir/ServiceRequest",
        service_request(gp=world.gp_b, clinic=world.clinic_b),
        api.token_b,
    )

    assert response.status_code == 201
    assert Referral.objects.count() == 2


def test_if_none_exist_with_another_parameter_is_refused(client: Client, api: ApiWorld) -> None:
    world = api.world
    response = post(
        client,
        "/fhir/ServiceRequest",
        service_request(gp=world.gp_a, clinic=world.clinic_a),
        api.token_a,
        {"If-None-Exist": "patient.identifier=191212121212"},
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "not-supported"
    assert not Referral.objects.exists()
