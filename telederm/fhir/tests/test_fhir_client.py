"""A real FHIR client library (fhirpy) against the running server, over HTTP."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, OperationOutcome, ResourceNotFound

from telederm.fhir import codes
from telederm.fhir.tests.conftest import (
    EHR,
    PATIENT,
    ApiWorld,
    answer,
    service_request,
    transaction_bundle,
)
from telederm.referrals.models import Referral, ReferralStatus


@pytest.fixture
def fhir(live_db: None, live_server: Any, api: ApiWorld) -> Iterator[SyncFHIRClient]:
    yield SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {api.token_a}")
    # A response object still referenced (e.g. by a caught exception) keeps its keep-alive
    # socket open, and with it a server thread that would outlive the test database. Collect
    # such objects, then let the server threads see the closed sockets and finish.
    gc.collect()
    for thread in threading.enumerate():
        if "process_request_thread" in thread.name:
            thread.join(timeout=10)


def _plain(resource: Any) -> dict[str, Any]:
    return resource.serialize() if hasattr(resource, "serialize") else dict(resource)


def test_capability_statement_over_http(fhir: SyncFHIRClient) -> None:
    statement = CapabilityStatement.model_validate(fhir.execute("metadata", method="get"))
    assert statement.fhirVersion == "4.0.1"


def test_referral_answer_and_messages_round_trip(fhir: SyncFHIRClient, api: ApiWorld) -> None:
    world = api.world
    body = service_request(gp=world.gp_a, clinic=world.clinic_a)
    body.pop("resourceType")
    created = fhir.resource("ServiceRequest", **body)
    created.save()

    request = ServiceRequest.model_validate(_plain(created))
    referral = Referral.objects.get()
    assert request.id == str(referral.public_id)
    assert referral.status == ReferralStatus.SENT

    again = fhir.resource("ServiceRequest", **body)
    again.save()
    assert again.id == created.id
    assert Referral.objects.count() == 1

    found = fhir.resources("ServiceRequest").search(identifier=f"{EHR}|R-1").fetch()
    assert [item.id for item in found] == [created.id]
    read = fhir.get("ServiceRequest", created.id)
    ServiceRequest.model_validate(read)

    answer(world, referral)
    reports = (
        fhir.resources("DiagnosticReport").search(based_on=f"ServiceRequest/{created.id}").fetch()
    )
    (report,) = [DiagnosticReport.model_validate(_plain(item)) for item in reports]
    assert report.status == "final"
    assert report.conclusionCode
    assert report.conclusionCode[0].coding
    assert report.conclusionCode[0].coding[0].system == codes.ICD10_SE
    by_patient = (
        fhir.resources("DiagnosticReport")
        .search(**{"patient.identifier": f"{codes.PERSONNUMMER}|{PATIENT}"})
        .fetch()
    )
    assert [item.id for item in by_patient] == [report.id]

    message = fhir.resource(
        "Communication",
        status="completed",
        identifier=[{"system": EHR, "value": "M-9"}],
        basedOn=[{"reference": f"ServiceRequest/{created.id}"}],
        sender={"identifier": {"system": codes.HSA_ID, "value": world.gp_a.hsa_id}},
        payload=[{"contentString": "Tack!"}],
    )
    message.save()
    Communication.model_validate(_plain(message))
    thread = fhir.resources("Communication").search(based_on=f"ServiceRequest/{created.id}").fetch()
    texts = [
        part.contentString
        for item in thread
        for part in Communication.model_validate(_plain(item)).payload or []
    ]
    assert texts == ["Tack!"]


def test_transaction_bundle_over_http(fhir: SyncFHIRClient, api: ApiWorld) -> None:
    world = api.world
    reply = Bundle.model_validate(
        fhir.execute(
            "", method="post", data=transaction_bundle(gp=world.gp_a, clinic=world.clinic_a)
        )
    )
    assert reply.type == "transaction-response"
    assert Referral.objects.get().status == ReferralStatus.SENT


def test_errors_reach_the_client_as_operation_outcomes(
    fhir: SyncFHIRClient, live_server: Any, api: ApiWorld
) -> None:
    anonymous = SyncFHIRClient(f"{live_server.url}/fhir")
    with pytest.raises(AuthorizationError):
        anonymous.resources("ServiceRequest").search(identifier="x|y").fetch()
    with pytest.raises(ResourceNotFound):
        fhir.get("DiagnosticReport", "00000000-0000-0000-0000-000000000000")
    unknown_clinic = service_request(gp=api.world.gp_b, clinic=api.world.clinic_b)
    unknown_clinic.pop("resourceType")
    with pytest.raises(OperationOutcome) as raised:
        fhir.resource("ServiceRequest", **unknown_clinic).save()
    assert raised.value.resource["issue"][0]["code"] == "not-found"
    assert not Referral.objects.exists()
