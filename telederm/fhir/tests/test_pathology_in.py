"""PAD results in as DiagnosticReport: through the follow-up service, idempotent, only for the
client's own referrals, and every bad input a 4xx OperationOutcome (races on PostgreSQL:
``test_pathology_concurrency.py``)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome

from telederm.accounts.models import User
from telederm.audit.models import Action, AuditEvent
from telederm.audit.services import Actor
from telederm.fhir import codes
from telederm.fhir.auth import create_api_client
from telederm.fhir.models import FhirPathologyLink, Scope
from telederm.fhir.tests.conftest import EHR, PATIENT, ApiWorld, answer, get, post
from telederm.outcomes.models import FollowUp
from telederm.outcomes.services import FollowUpData, save_follow_up
from telederm.referrals.models import Referral
from telederm.referrals.tests.helpers import send

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}
URL = "/fhir/DiagnosticReport"
TODAY = timezone.localdate()


def answered_referral(api: ApiWorld) -> Referral:
    """Clinic A's referral, answered by unit X: atypical naevus, excise at the clinic."""
    sent = send(api.world)
    answer(api.world, sent, diagnosis="atypical_naevus", action="excision", text_to_gp="Excidera.")
    sent.refresh_from_db()
    return sent


@pytest.fixture
def referral(api: ApiWorld) -> Referral:
    return answered_referral(api)


def _observation(key: str, code: dict[str, str], **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": key,
        "status": "final",
        "code": {"coding": [code]},
        **value,
    }


def breslow(mm: float | str) -> dict[str, Any]:
    return _observation(
        "breslow",
        {"system": codes.SNOMED, "code": codes.BRESLOW_SNOMED},
        valueQuantity={"value": mm, "unit": "mm", "system": codes.UCUM, "code": "mm"},
    )


def invasion(code: str) -> dict[str, Any]:
    return _observation(
        "invasion",
        {"system": codes.PAD_FINDING, "code": "invasion"},
        valueCodeableConcept={"coding": [{"system": codes.INVASION, "code": code}]},
    )


def pad(
    referral: Referral,
    registrar: User,
    *,
    diagnosis: str = "invasive_melanoma",
    findings: list[dict[str, Any]] | None = None,
    identifier: str | None = "PAD-1",
    status: str = "final",
    place: str | None = "dermatology",
    effective: str | None = TODAY.isoformat(),
) -> dict[str, Any]:
    """A PAD report in the documented shape (docs/fhir.md, "PAD in")."""
    findings = [breslow(1.25)] if findings is None else findings
    extensions: list[dict[str, Any]] = [
        {
            "url": codes.EXT_REGISTERED_BY,
            "valueReference": {"identifier": {"system": codes.HSA_ID, "value": registrar.hsa_id}},
        }
    ]
    if place:
        extensions.append(
            {
                "url": codes.EXT_EXCISION_PLACE,
                "valueCodeableConcept": {
                    "coding": [{"system": codes.EXCISION_PLACE, "code": place}]
                },
            }
        )
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "extension": extensions,
        "basedOn": [{"reference": f"ServiceRequest/{referral.public_id}"}],
        "status": status,
        "category": [{"coding": [{"system": codes.V2_0074, "code": "PAT"}]}],
        "code": {"coding": [{"system": codes.LOINC, "code": codes.PATHOLOGY_LOINC}]},
        "subject": {"identifier": {"system": codes.PERSONNUMMER, "value": PATIENT}},
        "conclusionCode": [{"coding": [{"system": codes.DIAGNOSIS, "code": diagnosis}]}],
    }
    if findings:
        report["contained"] = findings
        report["result"] = [{"reference": f"#{item['id']}"} for item in findings]
    if identifier:
        report["identifier"] = [{"system": EHR, "value": identifier}]
    if effective:
        report["effectiveDateTime"] = effective
    return report


def _outcome(response: Any, status: int) -> OperationOutcome:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return OperationOutcome.model_validate_json(response.content)


def _text(outcome: OperationOutcome) -> str:
    return " | ".join(issue.diagnostics or "" for issue in outcome.issue)


def _refused(response: Any, status: int, code: str, expression: str | None = None) -> str:
    outcome = _outcome(response, status)
    assert outcome.issue[0].code == code, outcome
    if expression is not None:
        assert outcome.issue[0].expression == [expression], outcome
    assert not FollowUp.objects.exists()
    assert not FhirPathologyLink.objects.exists()
    return _text(outcome)


def test_pad_result_fills_the_follow_up_and_is_audited(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    world = api.world
    response = post(client, URL, pad(referral, world.gp_a), api.token_a)

    assert response.status_code == 201, response.content
    stored = FollowUp.objects.get()
    assert (stored.outcome, stored.done_on, stored.place) == ("excised", TODAY, "dermatology")
    assert stored.pad_diagnosis == "invasive_melanoma"
    assert stored.pad_invasion == "invasive"  # set by the service, as for the form
    assert stored.breslow_mm == Decimal("1.25")
    assert stored.pad_reference == "PAD-1"
    assert stored.registered_by == world.gp_a
    assert response["Location"] == f"http://testserver/fhir/DiagnosticReport/{stored.public_id}"

    report = DiagnosticReport.model_validate_json(response.content)
    assert report.id == str(stored.public_id)
    assert [(i.system, i.value) for i in report.identifier or []] == [(EHR, "PAD-1")]
    assert report.basedOn
    assert report.basedOn[0].reference == f"ServiceRequest/{referral.public_id}"
    assert str(report.effectiveDateTime) == TODAY.isoformat()
    assert report.conclusionCode
    coded = {(c.system, c.code) for c in report.conclusionCode[0].coding or []}
    assert (codes.DIAGNOSIS, "invasive_melanoma") in coded
    assert (codes.ICD10_SE, "C439") in coded
    findings = {item.id: item for item in report.contained or []}
    depth = findings["breslow"]
    assert isinstance(depth, Observation)
    assert depth.valueQuantity
    assert depth.valueQuantity.value == Decimal("1.25")
    assert depth.valueQuantity.code == "mm"
    invaded = findings["invasion"]
    assert isinstance(invaded, Observation)
    assert invaded.valueCodeableConcept
    assert invaded.valueCodeableConcept.coding
    assert invaded.valueCodeableConcept.coding[0].code == "invasive"

    registered = AuditEvent.objects.get(action=Action.OUTCOME_REGISTERED)
    assert registered.actor_id == world.gp_a.pk
    assert registered.actor_name == f"{world.gp_a.full_name} via EHR A"
    assert registered.detail["api_client"] == "EHR A"
    assert registered.detail["pad"] == "invasive_melanoma"
    assert registered.patient_id == PATIENT
    written = AuditEvent.objects.get(action=Action.FHIR_WRITE)
    assert (written.actor_role, written.actor_name, written.actor_id) == (
        "api_client",
        "EHR A",
        None,
    )
    assert written.target_id == str(referral.public_id)
    assert written.detail["created"] is True

    again = get(client, response["Location"], api.token_a)
    assert again.status_code == 200
    assert DiagnosticReport.model_validate_json(again.content).id == str(stored.public_id)
    assert AuditEvent.objects.filter(action=Action.FHIR_READ, target_id=str(referral.public_id))


def test_a_repeat_with_the_same_identifier_returns_the_stored_result(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    first = post(client, URL, pad(referral, api.world.gp_a), api.token_a)
    assert first.status_code == 201
    # Whatever the repeat's body says, it changes nothing: the first result stands.
    repeat = pad(referral, api.world.gp_a, diagnosis="benign_naevus", findings=[])
    second = post(client, URL, repeat, api.token_a)

    assert second.status_code == 200, second.content
    assert second["Location"] == first["Location"]
    assert second.json() == first.json()
    stored = FollowUp.objects.get()
    assert (stored.pad_diagnosis, stored.version) == ("invasive_melanoma", 1)
    assert AuditEvent.objects.filter(action=Action.OUTCOME_REGISTERED).count() == 1
    assert not AuditEvent.objects.filter(action=Action.OUTCOME_CHANGED).exists()
    # If-None-Exist finds it too (the conditional create of ServiceRequest).
    header = {"If-None-Exist": f"identifier={EHR}|PAD-1"}
    third = post(client, URL, pad(referral, api.world.gp_a, identifier=None), api.token_a, header)
    assert third.status_code == 200
    assert FhirPathologyLink.objects.count() == 1


def test_a_different_result_needs_a_corrected_report(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    gp = api.world.gp_a
    assert post(client, URL, pad(referral, gp), api.token_a).status_code == 201
    other = pad(referral, gp, diagnosis="melanoma_in_situ", findings=[], identifier="PAD-2")

    conflict = post(client, URL, other, api.token_a, EN)
    outcome = _outcome(conflict, 409)
    assert outcome.issue[0].code == "conflict"
    assert "status corrected" in _text(outcome)
    assert FollowUp.objects.get().pad_diagnosis == "invasive_melanoma"

    corrected = post(client, URL, {**other, "status": "corrected"}, api.token_a)
    assert corrected.status_code == 201, corrected.content
    stored = FollowUp.objects.get()
    assert (stored.pad_diagnosis, stored.pad_invasion, stored.breslow_mm) == (
        "melanoma_in_situ",
        "in_situ",
        None,
    )
    assert stored.version == 2
    changed = AuditEvent.objects.get(action=Action.OUTCOME_CHANGED)
    assert changed.detail["changes"]["pad_diagnosis"] == ["invasive_melanoma", "melanoma_in_situ"]
    assert changed.detail["api_client"] == "EHR A"


def test_an_excision_registered_on_the_web_gets_its_pad_result(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    world = api.world
    save_follow_up(
        referral=referral,
        data=FollowUpData(outcome="excised", done_on=TODAY, place="clinic"),
        by=Actor(user=world.admin_a),
    )
    body = pad(referral, world.admin_a, diagnosis="bcc", findings=[invasion("invasive")])
    del body["effectiveDateTime"]
    body["extension"] = body["extension"][:1]  # neither date nor place: the web's stand

    response = post(client, URL, body, api.token_a)

    assert response.status_code == 201, response.content
    stored = FollowUp.objects.get()
    assert (stored.done_on, stored.place, stored.version) == (TODAY, "clinic", 2)
    assert (stored.pad_diagnosis, stored.pad_invasion) == ("bcc", "invasive")
    assert stored.changed_by == world.admin_a


@pytest.mark.parametrize(
    ("codings", "expected"),
    [
        ([{"system": codes.ICD10_WHO, "code": "C43.9"}], "invasive_melanoma"),
        ([{"system": codes.ICD10_SE, "code": "D039"}], "melanoma_in_situ"),
    ],
)
def test_an_icd10_code_naming_one_diagnosis_is_enough(
    client: Client, api: ApiWorld, referral: Referral, codings: list[Any], expected: str
) -> None:
    body = pad(referral, api.world.gp_a, findings=[])
    body["conclusionCode"] = [{"coding": codings}]
    assert post(client, URL, body, api.token_a).status_code == 201
    assert FollowUp.objects.get().pad_diagnosis == expected


def test_an_icd10_code_shared_by_two_diagnoses_is_refused(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    body = pad(referral, api.world.gp_a, findings=[])
    body["conclusionCode"] = [{"coding": [{"system": codes.ICD10_WHO, "code": "D22.9"}]}]
    response = post(client, URL, body, api.token_a, EN)
    text = _refused(response, 422, "code-invalid", "DiagnosticReport.conclusionCode")
    assert "D229" in text
    assert codes.DIAGNOSIS in text


def test_a_report_that_is_not_pathology_is_refused(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    body = pad(referral, api.world.gp_a)
    body["category"] = [{"coding": [{"system": codes.V2_0074, "code": "RAD"}]}]
    response = post(client, URL, body, api.token_a, EN)
    text = _refused(response, 422, "invalid", "DiagnosticReport.category")
    assert "Only PAD results are accepted" in text


def test_a_report_without_based_on_is_refused(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    body = pad(referral, api.world.gp_a)
    del body["basedOn"]
    response = post(client, URL, body, api.token_a, EN)
    text = _refused(response, 422, "required", "DiagnosticReport.basedOn")
    assert "ServiceRequest/<id>" in text


def test_another_clinics_referral_is_not_found_like_an_unknown_one(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    foreign = post(client, URL, pad(referral, api.world.gp_a), api.token_b, EN)
    unknown_body = pad(referral, api.world.gp_a)
    unknown_id = uuid.uuid4()
    unknown_body["basedOn"] = [{"reference": f"ServiceRequest/{unknown_id}"}]
    unknown = post(client, URL, unknown_body, api.token_a, EN)

    assert _refused(foreign, 404, "not-found", "DiagnosticReport.basedOn") == (
        f"ServiceRequest/{referral.public_id} was not found."
    )
    assert _refused(unknown, 404, "not-found") == f"ServiceRequest/{unknown_id} was not found."
    denied = AuditEvent.objects.filter(action=Action.FHIR_DENIED, actor_name="EHR B")
    assert denied.count() == 1


@pytest.mark.parametrize(
    ("diagnosis", "findings", "message"),
    [
        (
            "invasive_melanoma",
            [breslow(-1.2)],
            "Give the Breslow thickness in mm, from 0.01 to 50.",
        ),
        ("invasive_melanoma", [breslow(51)], "Give the Breslow thickness in mm, from 0.01 to 50."),
        ("invasive_melanoma", [breslow(1.234)], "at most two decimals"),
        (
            "melanoma_in_situ",
            [breslow(0.4)],
            "Breslow thickness is given only for an invasive melanoma.",
        ),
    ],
)
def test_a_bad_breslow_thickness_is_refused(
    client: Client,
    api: ApiWorld,
    referral: Referral,
    diagnosis: str,
    findings: list[dict[str, Any]],
    message: str,
) -> None:
    body = pad(referral, api.world.gp_a, diagnosis=diagnosis, findings=findings)
    response = post(client, URL, body, api.token_a, EN)
    outcome = _outcome(response, 422)
    assert message in _text(outcome)
    (where,) = outcome.issue[0].expression or [None]
    assert (where or "").startswith("DiagnosticReport.result[0]"), where
    assert not FollowUp.objects.exists()


def test_an_invasive_melanoma_without_breslow_is_accepted_as_on_the_web_form(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    """The form (``FollowUpForm``, ``services.check``) lets the thickness wait; so does the API."""
    body = pad(referral, api.world.gp_a, findings=[])
    assert post(client, URL, body, api.token_a).status_code == 201
    stored = FollowUp.objects.get()
    assert (stored.pad_invasion, stored.breslow_mm) == ("invasive", None)


def test_the_services_date_rule_points_at_effective_date_time(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    early = (TODAY - timedelta(days=3)).isoformat()
    response = post(client, URL, pad(referral, api.world.gp_a, effective=early), api.token_a, EN)
    text = _refused(response, 422, "business-rule", "DiagnosticReport.effectiveDateTime")
    assert "cannot be before the referral was sent" in text


@pytest.mark.parametrize("who", ["derm_x", "gp_b"])
def test_only_the_clinics_own_staff_can_be_the_registrar(
    client: Client, api: ApiWorld, referral: Referral, who: str
) -> None:
    body = pad(referral, getattr(api.world, who))
    response = post(client, URL, body, api.token_a, EN)
    text = _refused(response, 422, "business-rule")
    assert "is not a GP or center administrator at Vårdcentral A" in text


def test_an_answer_without_excision_takes_no_pad_result(client: Client, api: ApiWorld) -> None:
    sent = send(api.world)
    answer(api.world, sent, diagnosis="benign_naevus", action="none", text_to_gp="Godartat.")
    response = post(client, URL, pad(sent, api.world.gp_a), api.token_a, EN)
    _refused(response, 422, "business-rule", "DiagnosticReport.basedOn")


def test_invalid_json_is_a_400_operation_outcome(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    response = post(client, URL, '{"resourceType": "DiagnosticReport",', api.token_a, EN)
    text = _refused(response, 400, "structure")
    assert "not valid JSON" in text


def test_a_client_without_the_pathology_scope_gets_403(
    client: Client, api: ApiWorld, referral: Referral
) -> None:
    _client, token = create_api_client(
        name="EHR A, read only",
        organisations=[api.world.clinic_a],
        scopes=[scope for scope in Scope.values if scope != Scope.PATHOLOGY_WRITE],
        by=Actor.system(),
    )
    response = post(client, URL, pad(referral, api.world.gp_a), token, EN)
    assert "pathology.write" in _refused(response, 403, "forbidden")
    assert AuditEvent.objects.filter(action=Action.FHIR_DENIED, detail__scope="pathology.write")
