"""Answers out as DiagnosticReport, referrals out as ServiceRequest: only the client's own."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest

from telederm.accounts.models import Organisation, Role
from telederm.accounts.tests.factories import member
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.fhir import codes
from telederm.fhir.tests.conftest import (
    EHR,
    PATIENT,
    ApiWorld,
    answer,
    bearer,
    get,
    post,
    service_request,
)
from telederm.referrals import services as referral_services
from telederm.referrals.models import Referral, ReferralStatus
from telederm.referrals.tests.helpers import send
from telederm.review import casework
from telederm.review import services as review
from telederm.testing import World

pytestmark = pytest.mark.django_db


def _bundle(response: Any) -> Bundle:
    assert response.status_code == 200, response.content
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.type == "searchset"
    return bundle


def _identifier(reference: Reference | None) -> tuple[str | None, str | None]:
    assert reference is not None
    assert reference.identifier is not None
    return reference.identifier.system, reference.identifier.value


def _reports(response: Any) -> list[DiagnosticReport]:
    resources = [entry.resource for entry in _bundle(response).entry or []]
    assert all(isinstance(resource, DiagnosticReport) for resource in resources)
    return resources  # type: ignore[return-value]


@pytest.fixture
def sent(api: ApiWorld, client: Client) -> Referral:
    world = api.world
    response = post(
        client,
        "/fhir/ServiceRequest",
        service_request(gp=world.gp_a, clinic=world.clinic_a),
        api.token_a,
    )
    assert response.status_code == 201
    return Referral.objects.get()


def test_answer_is_a_final_diagnostic_report_with_icd10(
    client: Client, api: ApiWorld, sent: Referral
) -> None:
    answered = answer(api.world, sent)

    response = get(
        client,
        "/fhir/DiagnosticReport",
        api.token_a,
        **{"based-on": f"ServiceRequest/{sent.public_id}"},
    )

    (report,) = _reports(response)
    assert report.id == str(answered.public_id)
    assert report.status == "final"
    assert report.basedOn
    assert report.basedOn[0].reference == f"ServiceRequest/{sent.public_id}"
    assert report.conclusion == "Misstänkt melanom: remiss enligt SVF."
    assert report.conclusionCode
    icd = [c for c in report.conclusionCode[0].coding or [] if c.system == codes.ICD10_SE]
    assert [c.code for c in icd] == ["C439"]
    who = [c.code for c in report.conclusionCode[0].coding or [] if c.system == codes.ICD10_WHO]
    assert who == ["C43.9"]
    assert _identifier(report.subject) == (codes.PERSONNUMMER, PATIENT)
    performers = {(p.type, p.identifier.value) for p in report.performer or [] if p.identifier}
    assert performers == {
        ("Practitioner", api.world.derm_x.hsa_id),
        ("Organization", api.world.unit_x.hsa_id),
    }
    action = next(e for e in report.extension or [] if e.url == codes.EXT_ACTION)
    assert action.extension
    concept = action.extension[0].valueCodeableConcept
    assert concept is not None
    assert [coding.code for coding in concept.coding or []] == ["svf"]

    single = get(client, f"/fhir/DiagnosticReport/{answered.public_id}", api.token_a)
    assert DiagnosticReport.model_validate_json(single.content).id == report.id


def test_follow_up_answer_carries_the_months(client: Client, api: ApiWorld, sent: Referral) -> None:
    answered = answer(
        api.world,
        sent,
        diagnosis="atypical_naevus",
        action="follow_up",
        follow_up_months=3,
        certainty="certain",
        text_to_gp="Ny bild om tre månader.",
    )
    report = DiagnosticReport.model_validate_json(
        get(client, f"/fhir/DiagnosticReport/{answered.public_id}", api.token_a).content
    )
    action = next(e for e in report.extension or [] if e.url == codes.EXT_ACTION)
    parts = {part.url: part for part in action.extension or []}
    assert parts["followUpMonths"].valuePositiveInt == 3
    assert report.conclusionCode
    assert report.conclusionCode[0].coding
    assert report.conclusionCode[0].coding[0].code == "D229"


def test_amended_answer_is_amended_and_says_so(
    client: Client, api: ApiWorld, sent: Referral
) -> None:
    answered = answer(api.world, sent)
    casework.amend_answer(
        referral=sent,
        text="PAD bekräftar.",
        reason="Nytt underlag",
        by=Actor(user=api.world.derm_x),
    )

    report = DiagnosticReport.model_validate_json(
        get(client, f"/fhir/DiagnosticReport/{answered.public_id}", api.token_a).content
    )

    assert report.status == "amended"
    assert report.conclusion
    assert "PAD bekräftar." in report.conclusion


def test_answer_awaiting_second_reading_is_not_exposed(
    client: Client, api: ApiWorld, sent: Referral
) -> None:
    world = api.world
    Organisation.objects.filter(pk=world.unit_x.pk).update(
        second_reading=Organisation.SecondReading.ALL
    )
    waiting = answer(world, sent)
    sent.refresh_from_db()
    assert sent.status == ReferralStatus.SECOND_READING

    search = {"based-on": f"ServiceRequest/{sent.public_id}"}
    assert _reports(get(client, "/fhir/DiagnosticReport", api.token_a, **search)) == []
    assert (
        get(client, f"/fhir/DiagnosticReport/{waiting.public_id}", api.token_a).status_code == 404
    )
    request = ServiceRequest.model_validate_json(
        get(client, f"/fhir/ServiceRequest/{sent.public_id}", api.token_a).content
    )
    assert request.status == "active"

    colleague = member(world.unit_x, Role.DERMATOLOGIST)
    review.second_read(referral=sent, agree=True, by=Actor(user=colleague))

    (report,) = _reports(get(client, "/fhir/DiagnosticReport", api.token_a, **search))
    assert report.status == "final"
    assert {p.identifier.value for p in report.resultsInterpreter or [] if p.identifier} == {
        world.derm_x.hsa_id,
        colleague.hsa_id,
    }


def test_search_by_patient_identifier(client: Client, api: ApiWorld, sent: Referral) -> None:
    answer(api.world, sent)
    token = f"{codes.PERSONNUMMER}|{PATIENT}"

    (report,) = _reports(
        get(client, "/fhir/DiagnosticReport", api.token_a, **{"patient.identifier": token})
    )
    other = f"{codes.PERSONNUMMER}|194107079891"
    assert (
        _reports(
            get(client, "/fhir/DiagnosticReport", api.token_a, **{"patient.identifier": other})
        )
        == []
    )
    bare = get(client, "/fhir/DiagnosticReport", api.token_a, **{"patient.identifier": PATIENT})
    assert len(_reports(bare)) == 1
    assert _identifier(report.subject)[1] == PATIENT


def test_another_clients_referral_is_not_found_and_absent_from_searches(
    client: Client, api: ApiWorld, sent: Referral
) -> None:
    answered = answer(api.world, sent)
    token_b = api.token_b
    for path in (
        f"/fhir/DiagnosticReport/{answered.public_id}",
        f"/fhir/ServiceRequest/{sent.public_id}",
    ):
        response = get(client, path, token_b)
        assert response.status_code == 404
        assert response.json()["resourceType"] == "OperationOutcome"
    based_on = {"based-on": f"ServiceRequest/{sent.public_id}"}
    patient = {"patient.identifier": PATIENT}
    assert _reports(get(client, "/fhir/DiagnosticReport", token_b, **based_on)) == []
    assert _reports(get(client, "/fhir/DiagnosticReport", token_b, **patient)) == []
    assert _bundle(get(client, "/fhir/ServiceRequest", token_b, **patient)).entry is None
    assert (
        _bundle(get(client, "/fhir/ServiceRequest", token_b, identifier=f"{EHR}|R-1")).entry is None
    )
    denied = AuditEvent.objects.filter(action=Action.FHIR_DENIED, actor_name="EHR B")
    assert denied.count() == 2


def test_referrals_from_the_web_ui_of_the_clinic_are_visible_too(
    client: Client, api: ApiWorld
) -> None:
    ui = send(api.world)
    request = ServiceRequest.model_validate_json(
        get(client, f"/fhir/ServiceRequest/{ui.public_id}", api.token_a).content
    )
    assert request.identifier
    assert [(i.system, i.value) for i in request.identifier] == [(codes.REFERRAL_NUMBER, ui.number)]


def test_drafts_are_never_visible(client: Client, api: ApiWorld, world: World) -> None:
    draft = referral_services.start_referral(clinic=world.clinic_a, by=Actor(user=world.gp_a))
    assert get(client, f"/fhir/ServiceRequest/{draft.public_id}", api.token_a).status_code == 404


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ReferralStatus.SENT, "active"),
        (ReferralStatus.IN_REVIEW, "active"),
        (ReferralStatus.ANSWERED, "completed"),
        (ReferralStatus.WITHDRAWN, "revoked"),
    ],
)
def test_service_request_status_follows_the_referral(
    client: Client, api: ApiWorld, sent: Referral, status: str, expected: str
) -> None:
    world = api.world
    if status == ReferralStatus.IN_REVIEW:
        review.take_case(referral=sent, by=Actor(user=world.derm_x))
    elif status == ReferralStatus.ANSWERED:
        answer(world, sent)
    elif status == ReferralStatus.WITHDRAWN:
        referral_services.withdraw_referral(
            referral=sent, reason="Fel patient", by=Actor(user=world.gp_a)
        )
    request = ServiceRequest.model_validate_json(
        get(client, f"/fhir/ServiceRequest/{sent.public_id}", api.token_a).content
    )
    assert request.status == expected


def test_service_request_out_round_trips_what_came_in(
    client: Client, api: ApiWorld, sent: Referral
) -> None:
    response = get(client, "/fhir/ServiceRequest", api.token_a, identifier=f"{EHR}|R-1")
    (entry,) = _bundle(response).entry or []
    request = entry.resource
    assert isinstance(request, ServiceRequest)
    assert entry.fullUrl == f"http://testserver/fhir/ServiceRequest/{sent.public_id}"
    assert request.bodySite
    assert request.bodySite[0].coding
    assert {c.code for c in request.bodySite[0].coding} == {"forearm_back", "14975008"}
    assert request.reasonCode
    assert request.reasonCode[0].text == "Är detta ett melanom?"
    by_number = get(client, "/fhir/ServiceRequest", api.token_a, identifier=sent.number or "")
    assert len(_bundle(by_number).entry or []) == 1
    observations = {item.id for item in request.contained or []}
    assert {"requester", "history-duration", "history-itch"} <= observations


def test_search_pages_with_count_and_offset(client: Client, api: ApiWorld, sent: Referral) -> None:
    world = api.world
    body = service_request(gp=world.gp_a, clinic=world.clinic_a, identifier="R-2")
    assert post(client, "/fhir/ServiceRequest", body, api.token_a).status_code == 201

    first = _bundle(
        get(
            client,
            "/fhir/ServiceRequest",
            api.token_a,
            **{"patient.identifier": PATIENT, "_count": "1"},
        )
    )
    assert first.total == 2
    assert first.link
    next_url = next(str(link.url) for link in first.link if link.relation == "next")
    second = _bundle(client.get(next_url, headers=bearer(api.token_a)))
    assert second.link
    assert [link.relation for link in second.link] == ["self"]
    assert first.entry
    assert second.entry
    assert first.entry[0].fullUrl != second.entry[0].fullUrl


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"subject": "Patient/1"},
        {"patient.identifier": "191212121213"},
        {"based-on": "Patient/1"},
        {"_count": "0", "based-on": "ServiceRequest/x"},
    ],
)
def test_bad_searches_are_400(client: Client, api: ApiWorld, params: dict[str, str]) -> None:
    response = get(client, "/fhir/DiagnosticReport", api.token_a, **params)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
