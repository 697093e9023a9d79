"""The CapabilityStatement validates and tells the truth: what it declares is served, and what
it does not declare is refused."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from telederm.fhir.tests.conftest import PATIENT, ApiWorld, bearer

pytestmark = pytest.mark.django_db
SAMPLE = {
    "identifier": "urn:oid:1.2.752.0.99.1|R-1",
    "patient": PATIENT,
    "based-on": f"ServiceRequest/{uuid.uuid4()}",
}


def _statement(client: Client) -> CapabilityStatement:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    return CapabilityStatement.model_validate_json(response.content)


def test_metadata_is_a_valid_r4_capability_statement_open_to_anyone(client: Client) -> None:
    statement = _statement(client)
    assert statement.fhirVersion == "4.0.1"
    assert statement.kind == "instance"
    assert statement.format == ["application/fhir+json", "json"]
    assert statement.implementation
    assert statement.implementation.url == "http://testserver/fhir"


def test_every_declared_interaction_and_search_parameter_is_served(
    client: Client, api: ApiWorld
) -> None:
    statement = _statement(client)
    auth = bearer(api.token_a)
    (rest,) = statement.rest or []
    assert [i.code for i in rest.interaction or []] == ["transaction"]
    assert (
        client.post("/fhir/", "{}", content_type="application/fhir+json", headers=auth).status_code
        == 400
    )
    for resource in rest.resource or []:
        base = f"/fhir/{resource.type}"
        for interaction in resource.interaction or []:
            if interaction.code == "read":
                response = client.get(f"{base}/{uuid.uuid4()}", headers=auth)
                assert response.status_code == 404
                assert response.json()["issue"][0]["code"] == "not-found"
            elif interaction.code == "search-type":
                for param in resource.searchParam or []:
                    declared = str(param.name)
                    if declared.startswith("_"):
                        continue
                    name = "patient.identifier" if declared == "patient" else declared
                    response = client.get(base, {name: SAMPLE[declared]}, headers=auth)
                    assert response.status_code == 200, (resource.type, name, response.content)
                    assert response.json()["type"] == "searchset"
            elif interaction.code == "create":
                response = client.post(
                    base, "{}", content_type="application/fhir+json", headers=auth
                )
                assert response.status_code == 400, resource.type
            else:
                pytest.fail(f"a test for {interaction.code} is missing")


def test_what_is_not_declared_is_refused(client: Client, api: ApiWorld) -> None:
    statement = _statement(client)
    auth = bearer(api.token_a)
    (rest,) = statement.rest or []
    declared = {
        resource.type: {i.code for i in resource.interaction or []}
        for resource in rest.resource or []
    }
    for resource_type, interactions in declared.items():
        one = f"/fhir/{resource_type}/{uuid.uuid4()}"
        assert (
            client.put(one, "{}", content_type="application/fhir+json", headers=auth).status_code
            == 405
        )
        assert client.delete(one, headers=auth).status_code == 405
        if "create" not in interactions:
            response = client.post(
                f"/fhir/{resource_type}", "{}", content_type="application/fhir+json", headers=auth
            )
            assert response.status_code == 405
    for undeclared in ("Patient", "Media", "Binary", "Practitioner", "Organization", "Task"):
        assert client.get(f"/fhir/{undeclared}", headers=auth).status_code == 404
    response = client.get("/fhir/ServiceRequest", {"status": "active"}, headers=auth)
    assert response.status_code == 400
